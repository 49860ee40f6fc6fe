/**
 * The one place the network side touches devhost/sql: subscription/one-off SQL compilation and the
 * row-level-security filter for non-owners. Everything else here codes against these shapes only.
 */
import type { HostedDatabase, TableSchema } from '../contract.js';
import type { Semijoin } from '../sql/index.js';

export {
  compileQuery,
  compileVisibility,
  QueryCache,
  RuleCache,
  SqlError,
  type Visibility,
  type VisibilityChange,
} from '../sql/index.js';

/** Who runs a query: `:sender` binds to `sender`; the owner bypasses row-level security. */
export interface QueryAuth {
  readonly sender: bigint;
  readonly isOwner: boolean;
}

/** One compiled query returning one table's rows (a fragment of a subscription's query set). */
export interface SubscriptionQuery {
  readonly sql: string;
  readonly table: TableSchema;
  matches(row: Uint8Array): boolean;
  /** A btree range holding every row that can match: read it instead of the whole table. */
  readonly indexScan?: Parameters<HostedDatabase['scanIndexRange']>[0] & {
    /** The range holds exactly the rows `matches` accepts (no need to test them again). */
    readonly exact?: boolean;
  };
  /** A join: rows of `table` are in the result only while a matching row of the other table is. */
  readonly semijoin?: Semijoin;
}

/** Row-level security: whether a non-owner may see this row, kept current across transactions. */
export type { Visibility as RowVisibility } from '../sql/index.js';
