/**
 * The one place the network side touches devhost/sql: subscription/one-off SQL compilation and the
 * row-level-security filter for non-owners. Everything else here codes against these shapes only.
 */
import type { HostedDatabase, TableSchema } from '../contract.js';

export {
  compileQuery,
  compileVisibility,
  SqlError,
  type Visibility,
  type VisibilityChange,
} from '../sql/index.js';

/** Who runs a query: `:sender` binds to `sender`; the owner bypasses row-level security. */
export interface QueryAuth {
  readonly sender: bigint;
  readonly isOwner: boolean;
}

/** One compiled single-table query (a fragment of a subscription's query set). */
export interface SubscriptionQuery {
  readonly sql: string;
  readonly table: TableSchema;
  matches(row: Uint8Array): boolean;
  /** A btree range holding every row that can match: read it instead of the whole table. */
  readonly indexScan?: Parameters<HostedDatabase['scanIndexRange']>[0];
}

/** Row-level security: whether a non-owner may see this row, kept current across transactions. */
export type { Visibility as RowVisibility } from '../sql/index.js';
