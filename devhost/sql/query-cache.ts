/**
 * Compiled subscription queries kept per (schema, caller, text), so a client that reconnects and
 * subscribes to the same queries (its stream rows, the live table) does not parse, type-check and plan
 * them again. SpacetimeDB keeps a query's compiled plan keyed by its text and, when it depends on the
 * caller, the caller's identity (`QueryHash`); here the caller is always part of the key (`:sender`
 * binds to it, and whether private tables are readable depends on it), so a plan never crosses
 * identities. Compiled queries are immutable; a query that does not compile is not kept (it is
 * refused every time). Bounded by the bytes of query text held (the least recently used goes first).
 */
import { LRUCache } from 'lru-cache';
import type { ModuleSchema } from '../contract.js';
import { type CompiledQuery, compileQuery, type SqlAuth } from './compile.js';

/** Query text kept per schema unless told otherwise: 4 MiB (≥ 512 queries at the 8 KiB limit). */
export const DEFAULT_QUERY_CACHE_BYTES = 4 * 1024 * 1024;

interface Compiled {
  readonly queries: CompiledQuery[];
  /** The comparisons of its WHERE clause, for the caller's limit on a hit too. */
  readonly terms: number;
}

export class QueryCache {
  private readonly bySchema = new WeakMap<ModuleSchema, LRUCache<string, Compiled>>();

  constructor(private readonly maxBytes = DEFAULT_QUERY_CACHE_BYTES) {}

  /** `compileQuery(sql, schema, auth, checkTerms)`, from the cache when compiled before for this caller. */
  compile(
    sql: string,
    schema: ModuleSchema,
    auth: SqlAuth,
    checkTerms?: (terms: number) => void,
  ): CompiledQuery[] {
    let queries = this.bySchema.get(schema);
    if (!queries) {
      queries = new LRUCache({ maxSize: this.maxBytes, sizeCalculation: (_v, key) => key.length });
      this.bySchema.set(schema, queries);
    }
    const key = `${auth.isOwner ? 'owner' : 'client'} ${auth.sender.toString(16)} ${sql}`;
    const hit = queries.get(key);
    if (hit) {
      checkTerms?.(hit.terms);
      return hit.queries;
    }
    let terms = 0;
    const compiled = compileQuery(sql, schema, auth, (n) => {
      terms = n;
      checkTerms?.(n);
    });
    if (key.length <= this.maxBytes) queries.set(key, { queries: compiled, terms });
    return compiled;
  }

  /** How many compiled queries of `schema` are kept. */
  size(schema: ModuleSchema): number {
    return this.bySchema.get(schema)?.size ?? 0;
  }
}
