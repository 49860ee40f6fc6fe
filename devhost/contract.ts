/**
 * The seam between devhost's module host (loader, datastore, transactions, durability) and its
 * network side (HTTP, websocket protocol, subscriptions). Both halves code against these types only,
 * so either can be rebuilt without touching the other — the same split SpacetimeDB makes between
 * `crates/core/src/host` and `crates/client-api` + `crates/subscription`.
 *
 * Rows cross this seam as BSATN bytes (exactly what goes on the wire); decoding is done by whoever
 * needs values, with the row type from the schema.
 */
import type { AlgebraicTypeType } from 'spacetimedb';

/** A typespace as decoded from RawModuleDef V10 (`Typespace.types`). */
export interface Typespace {
  readonly types: readonly AlgebraicTypeType[];
}

export interface ColumnSchema {
  /** Position in the row's product type. */
  readonly colId: number;
  /** Canonical (wire/SQL) name, e.g. `user_id`. */
  readonly name: string;
  /** Accessor/source name from the module source, e.g. `userId`; SQL accepts either. */
  readonly sourceName: string;
  readonly type: AlgebraicTypeType;
}

export type IndexAlgorithm = 'btree' | 'hash' | 'direct';

export interface IndexSchema {
  readonly indexId: number;
  /** Canonical name (`{table}_{cols}_idx_{algo}` unless explicit). */
  readonly name: string;
  /** Source name the module passes to `index_id_from_name`. */
  readonly sourceName: string;
  readonly algorithm: IndexAlgorithm;
  readonly columns: readonly number[];
  /** True when a unique constraint (or the primary key) covers exactly these columns. */
  readonly unique: boolean;
}

export interface TableSchema {
  readonly tableId: number;
  /** Canonical name used by clients (subscription SQL, TableUpdate.tableName). */
  readonly name: string;
  /** Accessor name the module passes to `table_id_from_name`. */
  readonly sourceName: string;
  readonly isPublic: boolean;
  readonly isEvent: boolean;
  /** The row's product type (already resolved out of the typespace). */
  readonly rowType: AlgebraicTypeType;
  readonly columns: readonly ColumnSchema[];
  readonly primaryKey: readonly number[];
  readonly indexes: readonly IndexSchema[];
  /** Column ids with an auto-increment sequence. */
  readonly sequenceColumns: readonly number[];
  /** Set when the table is a schedule table. */
  readonly schedule?: { readonly reducer: string; readonly scheduleAtCol: number; readonly idCol: number };
}

export type LifecycleKind = 'init' | 'clientConnected' | 'clientDisconnected';

export interface ReducerSchema {
  /** Index in the Reducers section: the id `__call_reducer__` takes. */
  readonly reducerId: number;
  /** Canonical name (what `CallReducer.reducer` carries). */
  readonly name: string;
  readonly sourceName: string;
  /** Product type of the arguments. */
  readonly params: AlgebraicTypeType;
  readonly lifecycle?: LifecycleKind;
  /** Scheduled and lifecycle reducers cannot be called by clients. */
  readonly clientCallable: boolean;
}

export interface ModuleSchema {
  readonly typespace: Typespace;
  readonly tables: readonly TableSchema[];
  readonly reducers: readonly ReducerSchema[];
  /** Row-level-security SQL (clientVisibilityFilter), applied to non-owner subscribers. */
  readonly rowLevelSecurity: readonly string[];
  tableByName(nameOrAlias: string): TableSchema | undefined;
  reducerByName(canonicalName: string): ReducerSchema | undefined;
}

/** Who is calling: identity is a u256, connectionId a u128 (0n = no connection). */
export interface Caller {
  readonly identity: bigint;
  readonly connectionId: bigint;
}

/** Net row changes of one table in one committed transaction. */
export interface TableDelta {
  readonly tableId: number;
  /** Canonical table name. */
  readonly table: string;
  readonly inserts: readonly Uint8Array[];
  readonly deletes: readonly Uint8Array[];
}

export interface CommittedTx {
  /** Transaction offset: +1 per committed mutable transaction. */
  readonly offset: bigint;
  /** Reducer timestamp, microseconds since the Unix epoch. */
  readonly timestamp: bigint;
  /** The client whose reducer call produced it; undefined for init/scheduled/system transactions. */
  readonly caller?: Caller;
  readonly reducer?: { readonly name: string; readonly args: Uint8Array };
  readonly deltas: readonly TableDelta[];
}

/** Outcome of a reducer call, as SpacetimeDB classifies it (host spec §2.6). */
export type ReducerOutcome =
  | { readonly kind: 'committed'; readonly tx: CommittedTx }
  /** The reducer threw the module's SenderError: the message goes to the caller. */
  | { readonly kind: 'failed-user'; readonly timestamp: bigint; readonly message: string }
  /** Any other failure; the message is what the caller sees. */
  | { readonly kind: 'failed-internal'; readonly timestamp: bigint; readonly message: string };

/** One hosted database: the module plus its datastore. All calls are serialised internally. */
export interface HostedDatabase {
  readonly name: string;
  readonly schema: ModuleSchema;
  /** The database's own identity (sender of scheduled reducers), u256. */
  readonly identity: bigint;
  /** The owner identity (sender of init; bypasses row-level security), u256. */
  readonly owner: bigint;

  /**
   * Call a reducer by canonical name with BSATN args. Unknown/private/bad args → failed-internal.
   * Calls run one at a time in submission order; a call's promise settles (and its continuations run)
   * before the next transaction starts, so per-connection answers can be sent in commit order.
   */
  callReducer(name: string, args: Uint8Array, caller: Caller): Promise<ReducerOutcome>;
  /**
   * Run client_connected; false means the module rejected the connection. `jwtPayload` is the JSON
   * claims of the token the connection authenticated with (what `get_jwt_payload` returns).
   */
  connectClient(caller: Caller, jwtPayload?: string): Promise<boolean>;
  /** Run client_disconnected (errors swallowed, as SpacetimeDB does). */
  disconnectClient(caller: Caller): Promise<void>;

  /** Committed rows of a table, as BSATN, in no particular order. */
  scanTable(tableId: number): Iterable<Uint8Array>;
  /** Committed rows in a btree index range (arguments as the `datastore_index_scan_range_bsatn` ABI). */
  scanIndexRange(scan: {
    readonly indexId: number;
    readonly prefix: Uint8Array;
    readonly prefixElems: number;
    readonly start: Uint8Array;
    readonly end: Uint8Array;
  }): Iterable<Uint8Array>;
  /**
   * Listen to every committed transaction (reducers, lifecycle, scheduled), in commit order and
   * synchronously after commit, before the caller's promise resolves. Returns an unsubscribe function.
   */
  onCommit(listener: (tx: CommittedTx) => void): () => void;
  /** Resolves once the transaction at `offset` is durable (immediately without a data dir). */
  waitDurable(offset: bigint): Promise<void>;

  close(): Promise<void>;
}

/** Databases by name, as the network side looks them up (`/v1/database/:name/...`). */
export interface DatabaseRegistry {
  get(name: string): HostedDatabase | undefined;
}
