/**
 * What the host needs from durability (devhost/durability implements it for a data dir); declared
 * here so the host depends on a shape, not on the log's implementation. Memory-only mode is the
 * trivial twin below: everything is durable the moment it commits.
 */
export interface LoggedMutations {
  readonly tableId: number;
  readonly inserts: readonly Uint8Array[];
  readonly deletes: readonly Uint8Array[];
}

export interface LoggedSequence {
  readonly tableId: number;
  readonly colId: number;
  readonly allocated: bigint;
}

export interface LoggedTx {
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly reducer?: string;
  readonly args?: Uint8Array;
  readonly callerIdentity?: bigint;
  readonly callerConnectionId?: bigint;
  readonly mutations: readonly LoggedMutations[];
  readonly sequences?: readonly LoggedSequence[];
}

export interface Image {
  readonly offset: bigint;
  readonly tables: ReadonlyMap<number, readonly Uint8Array[]>;
  readonly sequences: readonly LoggedSequence[];
}

export interface DurabilityPort {
  readonly recovered: Image;
  readonly meta: Readonly<Record<string, string>>;
  setMeta(meta: Record<string, string>): void;
  append(tx: LoggedTx): void;
  durableOffset(): bigint;
  waitDurable(offset: bigint): Promise<void>;
  shouldSnapshot(): boolean;
  snapshot(image: Image): Promise<void>;
  close(): Promise<void>;
}

export function inMemoryDurability(): DurabilityPort {
  let meta: Record<string, string> = {};
  let last = -1n;
  return {
    recovered: { offset: -1n, tables: new Map(), sequences: [] },
    get meta() {
      return meta;
    },
    setMeta(m) {
      meta = { ...m };
    },
    append(tx) {
      last = tx.offset;
    },
    durableOffset: () => last,
    waitDurable: async () => {},
    shouldSnapshot: () => false,
    snapshot: async () => {},
    close: async () => {},
  };
}
