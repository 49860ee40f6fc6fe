/**
 * The contract between devhost's datastore and its durability layer. The datastore hands over each
 * committed transaction (rows as BSATN), asks whether a snapshot is due, and reads back the recovered
 * image at start. Everything here is plain data so the two sides share no classes.
 */

/**
 * When appended transactions are fsynced. `always` (the default, group commit): at once when no
 * fsync is running; an offset counts as durable once an fsync covering it completed, and the appends
 * made while one runs share the next write and fsync. `never`: never by policy; an offset counts as
 * durable once the OS has the bytes (survives a process crash, not a power cut). `{ intervalMs }`:
 * bytes go to the OS at once and are fsynced at most `intervalMs` later (a timer); the durable offset
 * follows the fsync.
 */
export type FsyncPolicy = 'always' | 'never' | { readonly intervalMs: number };

export interface TableMutations {
  readonly tableId: number;
  readonly inserts: readonly Uint8Array[];
  readonly deletes: readonly Uint8Array[];
  readonly truncated?: boolean;
}

export interface SequenceAllocation {
  readonly tableId: number;
  readonly colId: number;
  /** Highest value reserved so far. */
  readonly allocated: bigint;
}

export interface DurableTx {
  /** Tx offset, +1 per committed tx, starting at 0. */
  readonly offset: bigint;
  /** µs since the Unix epoch. */
  readonly timestamp: bigint;
  readonly reducer?: string;
  readonly args?: Uint8Array;
  readonly callerIdentity?: bigint;
  readonly callerConnectionId?: bigint;
  /** Rows are BSATN; deletes apply by byte equality. */
  readonly mutations: readonly TableMutations[];
  readonly sequences?: readonly SequenceAllocation[];
}

/** What a snapshot holds and recovery returns. */
export interface DatabaseImage {
  /** Last tx included; -1n = empty. */
  readonly offset: bigint;
  readonly tables: ReadonlyMap<number, readonly Uint8Array[]>;
  readonly sequences: readonly SequenceAllocation[];
}

export interface DurabilityOptions {
  /** Default `'always'`: group commit, one fsync at a time, no timer. */
  readonly fsync?: FsyncPolicy;
  /** `shouldSnapshot()` turns true this many txs after the last snapshot. Default 10_000. */
  readonly snapshotEveryTxs?: number;
  /** A log segment is closed and a new one started past this size. Default 16 MiB. */
  readonly segmentBytes?: number;
  /** Refuse to open data written by a different module schema, with a clear error. */
  readonly schemaHash?: string;
  /** Recovery repairs it could make on its own (torn log tail, corrupt snapshot skipped). */
  readonly onWarning?: (message: string) => void;
  /**
   * The operator's override for damage in the middle of the log: cut it there (keeping the cut bytes
   * aside) instead of refusing to open. What was cut is in `historyCut`.
   */
  readonly truncateCorrupt?: boolean;
  /** While the log is out of space: how often to probe for space again. Default 1000 ms. */
  readonly spaceProbeMs?: number;
  /** The file operations of the log (tests inject faults here); default: node:fs. */
  readonly logFs?: import('./log-fs.js').LogFs;
}

/** Committed transactions `truncateCorrupt` cut away at open. */
export interface HistoryCutReport {
  readonly segment: string;
  readonly atByte: number;
  readonly problem: string;
  readonly fromOffset: bigint;
  readonly throughOffset: bigint;
  readonly keptAs: readonly string[];
}

export interface Durability {
  /** State at open (the empty image for a new directory). */
  readonly recovered: DatabaseImage;
  /** Set when opening cut committed transactions away (`truncateCorrupt`). */
  readonly historyCut?: HistoryCutReport;
  /** Small metadata (database identity, owner, ...) stored once. */
  readonly meta: Readonly<Record<string, string>>;
  /** Replaces the metadata; durable (fsynced) before it returns. */
  setMeta(meta: Record<string, string>): void;
  /** Ordered; offsets must be consecutive (throws otherwise). Rows are copied before it returns. */
  append(tx: DurableTx): void;
  /** Highest offset known durable (-1n: none). */
  durableOffset(): bigint;
  /** Why nothing can be appended right now (the log ran out of space), or undefined. Memory: never. */
  blocked?(): string | undefined;
  /**
   * Told when the log runs out of space: transactions after `lastLogged` were not logged and never
   * will be (the caller rolls them back; appends continue at `lastLogged + 1` once `resumed`).
   */
  onStall?(handler: { stalled(lastLogged: bigint, reason: string): void; resumed(): void }): void;
  /** Resolves once `offset` is durable; resolution follows offset order. */
  waitDurable(offset: bigint): Promise<void>;
  /** True when enough txs have been appended since the last snapshot and none is being written. */
  shouldSnapshot(): boolean;
  /**
   * Writes the image atomically (tmp + fsync + rename + dir fsync), then drops log segments no
   * retained snapshot needs. The image is serialized before this returns, so the caller may go on
   * mutating what it passed.
   */
  snapshot(image: DatabaseImage): Promise<void>;
  /** Flushes and fsyncs everything appended, then releases the directory. */
  close(): Promise<void>;
}
