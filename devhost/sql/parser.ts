/**
 * Parses SpacetimeDB's subscription SQL (`crates/sql-parser/src/parser/sub.rs`) into a `SqlSelect`: one
 * table, or two joined by `[INNER] JOIN … ON a.x = b.y`. Operator precedence and literal forms follow
 * sqlparser 0.38, which SpacetimeDB uses, so the same text means the same thing here. Everything
 * SpacetimeDB refuses (NOT, IS, IN, LIKE, functions, ORDER BY, outer joins, …) is refused with
 * `unsupported`.
 */
import type { Relation, SqlSelect } from './ast.js';
import { ExpressionParser } from './expression-parser.js';
import {
  JOIN_WORDS,
  NON_QUERY_STATEMENTS,
  RESERVED_FOR_COLUMN_ALIAS,
  RESERVED_FOR_TABLE_ALIAS,
} from './keywords.js';
import { type Token, tokenize } from './lexer.js';
import { qualify, qualifyProjection, type RawExpr, type RawProjection } from './qualify.js';
import { SqlError, unsupported } from './sql-error.js';

export { MAX_EXPR_NESTING, MAX_EXPR_OPERATORS } from './expression-parser.js';

const JOIN_ON_ONLY = 'a subscription joins two tables on one column of each being equal';

/** Statements and clauses; expressions are ExpressionParser's, the token cursor TokenCursor's. */
class Parser extends ExpressionParser {
  // ---- statements ------------------------------------------------------------------------------

  statements(): SqlSelect {
    while (this.eat(';'));
    if (this.peek().kind === 'eof') throw unsupported('Empty SQL query');
    const select = this.statement();
    let delimited = false;
    while (this.eat(';')) delimited = true;
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (!delimited) throw this.expected('end of statement', t);
      throw unsupported('Multiple SQL statements are not supported');
    }
    return select;
  }

  statement(): SqlSelect {
    const t = this.peek();
    const kw = this.keyword(t);
    if (kw === 'SELECT' || kw === 'WITH' || kw === 'VALUES' || this.isOp('(', t)) return this.query();
    if (kw !== undefined && NON_QUERY_STATEMENTS.has(kw))
      throw unsupported('Unsupported: Non-SELECT queries');
    throw this.expected('an SQL statement', t);
  }

  query(): SqlSelect {
    const start = this.position;
    if (this.isKeyword('WITH'))
      throw unsupported(`Unsupported: ${this.restFrom(start)} (WITH is not supported)`);
    if (this.isOp('(') || this.isKeyword('VALUES'))
      throw unsupported(`Unsupported set operation: ${this.restFrom(start)}`);
    const select = this.select();
    const t = this.peek();
    const kw = this.keyword(t);
    if (kw === 'UNION' || kw === 'EXCEPT' || kw === 'INTERSECT')
      throw unsupported(`Unsupported set operation: ${kw} is not supported in subscriptions`);
    if (kw === 'ORDER' || kw === 'LIMIT' || kw === 'OFFSET' || kw === 'FETCH' || kw === 'FOR')
      throw unsupported(
        `Unsupported: ${this.restFrom(start)} (${kw === 'ORDER' ? 'ORDER BY' : kw} is not supported in subscriptions)`,
      );
    return select;
  }

  select(): SqlSelect {
    const start = this.position;
    if (!this.eatKeyword('SELECT')) throw this.expected('SELECT');
    const refuseSelect = (what: string) =>
      unsupported(`Unsupported SELECT: ${this.restFrom(start)} (${what} is not supported in subscriptions)`);
    if (this.isKeyword('DISTINCT')) throw refuseSelect('DISTINCT');
    if (this.isKeyword('TOP')) throw refuseSelect('TOP');
    this.eatKeyword('ALL');
    const project = this.projection();
    if (this.isKeyword('INTO')) throw refuseSelect('SELECT INTO');
    if (!this.eatKeyword('FROM')) {
      const t = this.peek();
      if (t.kind === 'eof' || this.isOp(';', t) || this.isKeyword('WHERE', t))
        throw new SqlError('parse', 'A FROM clause is required');
      throw this.expected('end of statement', t);
    }
    const { from, join } = this.from();
    let filter: RawExpr | undefined;
    if (this.eatKeyword('WHERE')) filter = this.expr(0);
    const kw = this.keyword();
    if (kw === 'GROUP') throw refuseSelect('GROUP BY');
    if (kw === 'HAVING') throw refuseSelect('HAVING');
    if (kw === 'CLUSTER' || kw === 'DISTRIBUTE' || kw === 'SORT' || kw === 'WINDOW' || kw === 'QUALIFY')
      throw refuseSelect(kw);
    // In a join a bare column name could mean either table: SpacetimeDB wants them qualified.
    const alias = join ? undefined : from.alias;
    return {
      project: qualifyProjection(project, alias),
      from,
      ...(join ? { join } : {}),
      ...(filter ? { filter: qualify(filter, alias) } : {}),
    };
  }

  // ---- projection ------------------------------------------------------------------------------

  projection(): RawProjection {
    const items: ProjectionItem[] = [this.projectionItem()];
    while (this.eat(',')) items.push(this.projectionItem());
    if (items.length === 1) {
      const item = items[0] as ProjectionItem;
      switch (item.kind) {
        case 'wildcard':
          return { kind: 'star' };
        case 'qualified-wildcard':
          return { kind: 'star', qualifier: item.qualifier };
        case 'function':
          if (!item.aliased) throw unsupported('Aggregate expressions must have column aliases');
          if (!item.isCountStar) throw unsupported(`Unsupported aggregate function: ${item.text}`);
          return { kind: 'count' };
        case 'column':
          return { kind: 'columns', columns: [item.column] };
      }
    }
    const columns = items.map((item) => {
      if (item.kind === 'wildcard' || item.kind === 'qualified-wildcard')
        throw unsupported('Mixed wildcard projections are not supported');
      if (item.kind === 'function') throw unsupported(`Unsupported projection expression: ${item.text}`);
      return item.column;
    });
    return { kind: 'columns', columns };
  }

  projectionItem(): ProjectionItem {
    const start = this.position;
    if (this.eat('*')) return { kind: 'wildcard' };
    // `a.b.*`: a qualified wildcard.
    let k = 0;
    while (
      (this.peek(k).kind === 'word' || this.peek(k).kind === 'quoted') &&
      this.isOp('.', this.peek(k + 1))
    ) {
      if (this.isOp('*', this.peek(k + 2))) return this.qualifiedWildcard(start);
      k += 2;
    }
    const first = this.peek();
    let item: ProjectionItem;
    if (first.kind === 'word' && this.isOp('(', this.peek(1))) {
      const name = this.next().value;
      const argsStart = this.position;
      this.skipParenthesized();
      const args = this.tokens.slice(argsStart + 1, this.position - 1);
      const isCountStar =
        name.toUpperCase() === 'COUNT' && args.length === 1 && this.isOp('*', args[0] as Token);
      item = { kind: 'function', text: this.textFrom(start), isCountStar, aliased: false };
    } else {
      const e = this.expr(0);
      if (e.kind === 'var') item = { kind: 'column', column: { field: e.name } };
      else if (e.kind === 'field') item = { kind: 'column', column: { table: e.table, field: e.field } };
      else throw unsupported(`Unsupported projection expression: ${this.textFrom(start)}`);
    }
    if (this.eatKeyword('AS')) {
      this.identifier('an alias');
      if (item.kind === 'function') item = { ...item, aliased: true };
    } else {
      const t = this.peek();
      const kw = this.keyword(t);
      if (t.kind === 'quoted' || (kw !== undefined && !RESERVED_FOR_COLUMN_ALIAS.has(kw))) {
        this.next();
        if (item.kind === 'function') item = { ...item, aliased: true };
      }
    }
    return item;
  }

  /** Re-reads `a.b.*` from `start` (the lookahead above only checked its shape). */
  qualifiedWildcard(start: number): ProjectionItem {
    this.i = start;
    const parts = [this.identifier()];
    while (this.eat('.')) {
      if (this.eat('*')) return { kind: 'qualified-wildcard', qualifier: parts.join('.') };
      parts.push(this.identifier());
    }
    throw this.expected('*');
  }

  skipParenthesized(): void {
    this.expectOp('(');
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === 'eof') throw this.expected(')', t);
      if (this.isOp('(', t)) depth++;
      else if (this.isOp(')', t)) depth--;
    }
  }

  // ---- FROM --------------------------------------------------------------------------------------

  /** `table [[AS] alias]`. */
  relation(): Relation {
    const start = this.position;
    if (this.isOp('('))
      throw unsupported(`Unsupported FROM expression: ${this.restFrom(start)} (subqueries)`);
    const parts = [this.identifier('identifier')];
    while (this.eat('.')) parts.push(this.identifier('identifier'));
    const table = parts.join('.');
    if (this.isOp('('))
      throw unsupported(`Unsupported FROM expression: ${table}(…) (table functions are not supported)`);
    let alias = table;
    if (this.eatKeyword('AS')) alias = this.identifier('an alias');
    else {
      const t = this.peek();
      const kw = this.keyword(t);
      if (t.kind === 'quoted' || (kw !== undefined && !RESERVED_FOR_TABLE_ALIAS.has(kw)))
        alias = this.next().value;
    }
    if (this.isOp('(')) throw unsupported(`Unsupported FROM expression: ${this.textFrom(start)}(…)`);
    return { table, alias };
  }

  from(): { from: Relation; join?: NonNullable<SqlSelect['join']> } {
    const from = this.relation();
    if (this.isOp(',')) throw unsupported('Implicit joins are not supported (write JOIN … ON …)');
    const join = this.join();
    if (join && this.joinWord() !== undefined)
      throw unsupported('Invalid number of tables in subscription: at most two tables may be joined');
    return join ? { from, join } : { from };
  }

  private joinWord(): string | undefined {
    const kw = this.keyword();
    return kw !== undefined && JOIN_WORDS.has(kw) ? kw : undefined;
  }

  /** `[INNER] JOIN relation ON a.x = b.y`, if one follows. */
  private join(): NonNullable<SqlSelect['join']> | undefined {
    const kw = this.joinWord();
    if (kw === undefined) return undefined;
    if (kw !== 'JOIN' && kw !== 'INNER') {
      const outer = kw === 'LEFT' || kw === 'RIGHT' || kw === 'FULL' || kw === 'OUTER';
      throw unsupported(outer ? 'Non-inner joins are not supported' : `${kw} joins are not supported`);
    }
    this.eatKeyword('INNER');
    if (!this.eatKeyword('JOIN')) throw this.expected('JOIN');
    const relation = this.relation();
    if (!this.eatKeyword('ON'))
      throw unsupported(`Unsupported join: joins need ON <column> = <column> (${JOIN_ON_ONLY})`);
    const start = this.position;
    const on = this.expr(0);
    if (on.kind !== 'rbin' && on.kind !== 'bin')
      throw unsupported(`Unsupported join condition: ${this.textFrom(start)} (${JOIN_ON_ONLY})`);
    if (on.op !== '=' || on.left.kind !== 'field' || on.right.kind !== 'field')
      throw unsupported(`Unsupported join condition: ${this.textFrom(start)} (${JOIN_ON_ONLY})`);
    return {
      ...relation,
      on: {
        left: { table: on.left.table, field: on.left.field },
        right: { table: on.right.table, field: on.right.field },
      },
    };
  }
}

type ProjectionItem =
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'qualified-wildcard'; readonly qualifier: string }
  | {
      readonly kind: 'function';
      readonly text: string;
      readonly isCountStar: boolean;
      readonly aliased: boolean;
    }
  | { readonly kind: 'column'; readonly column: { readonly table?: string; readonly field: string } };

/** Parses one subscription query (after `SELECT * FROM *` has been recognised elsewhere). */
export function parseSubscription(sql: string): SqlSelect {
  return new Parser(sql, tokenize(sql)).statements();
}
