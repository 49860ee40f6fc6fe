/**
 * `openDurability`: a data directory with `meta.json`, `clog/` (commit log segments) and `snapshots/`.
 * Opening recovers synchronously (startup), then appends go through the background log writer and
 * snapshots are written off the append path.
 */
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { acquireDirLock } from './dir-lock.js';
import { DurabilityError } from './errors.js';
import { frameTx } from './frame.js';
import { fsyncDir, fsyncDirSync, offsetName, writeFileAtomic } from './fs-util.js';
import { type LogFs, nodeLogFs } from './log-fs.js';
import { LogWriter } from './log-writer.js';
import { readMetaFile, schemaMismatch, writeMetaFile } from './meta-file.js';
import { recover } from './recover.js';
import { encodeSnapshot, SNAPSHOT_EXT } from './snapshot-file.js';
import type {
  DatabaseImage,
  Durability,
  DurabilityOptions,
  DurableTx,
  FsyncPolicy,
  HistoryCutReport,
} from './types.js';

/**
 * Group commit, as SpacetimeDB's local durability does it since it dropped its sync interval
 * (crates/durability `Actor::run`: take everything queued, write it, flush and fsync, repeat): an
 * append made while the log is idle is written and fsynced at once, and the appends that arrive
 * while that runs share the next write and fsync. A timer (`{ intervalMs }`) made every confirmed
 * read wait for its tick as well: half an interval on average, a whole one at worst.
 */
const DEFAULT_FSYNC: FsyncPolicy = 'always';
const DEFAULT_SNAPSHOT_EVERY = 10_000;
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/**
 * Snapshots kept on disk. With two, a damaged newest snapshot still leaves an older one plus the log
 * from there on, so segments are only dropped once the second-newest snapshot covers them.
 */
const SNAPSHOTS_KEPT = 2;

export function openDurability(dir: string, options: DurabilityOptions = {}): Durability {
  const policy = options.fsync ?? DEFAULT_FSYNC;
  const snapshotEvery = options.snapshotEveryTxs ?? DEFAULT_SNAPSHOT_EVERY;
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (typeof policy === 'object' && !(Number.isFinite(policy.intervalMs) && policy.intervalMs >= 0))
    throw new DurabilityError('invalid-argument', `fsync intervalMs must be >= 0, got ${policy.intervalMs}`);
  if (!(Number.isInteger(snapshotEvery) && snapshotEvery >= 1))
    throw new DurabilityError(
      'invalid-argument',
      `snapshotEveryTxs must be a positive integer, got ${snapshotEvery}`,
    );
  if (!(Number.isInteger(segmentBytes) && segmentBytes >= 1))
    throw new DurabilityError(
      'invalid-argument',
      `segmentBytes must be a positive integer, got ${segmentBytes}`,
    );

  const clogDir = `${dir}/clog`;
  const snapDir = `${dir}/snapshots`;
  const created = mkdirSync(clogDir, { recursive: true }) !== undefined;
  if (mkdirSync(snapDir, { recursive: true }) !== undefined || created) {
    fsyncDirSync(dir);
  }
  const release = acquireDirLock(dir);
  try {
    const stored = readMetaFile(dir);
    if (
      stored?.schemaHash !== undefined &&
      options.schemaHash !== undefined &&
      stored.schemaHash !== options.schemaHash
    )
      throw schemaMismatch(dir, stored.schemaHash, options.schemaHash);
    const schemaHash = stored?.schemaHash ?? options.schemaHash;
    const warn = options.onWarning ?? (() => {});
    const recovery = recover({
      dir,
      clogDir,
      snapDir,
      schemaHash: options.schemaHash,
      warn,
      truncateCorrupt: options.truncateCorrupt === true,
    });
    // Only after recovery accepted the data: a refused open must not stamp its hash on the directory.
    if (stored === undefined || stored.schemaHash !== schemaHash)
      writeMetaFile(dir, { schemaHash, meta: stored?.meta ?? {} });
    const logFs = options.logFs ?? nodeLogFs;
    const writer = new LogWriter({
      clogDir,
      fs: logFs,
      ...(options.spaceProbeMs !== undefined ? { spaceProbeMs: options.spaceProbeMs } : {}),
      policy,
      segmentBytes,
      segments: recovery.segments,
      resume: recovery.resume,
      lastOffset: recovery.image.offset,
    });
    return new DiskDurability({
      dir,
      snapDir,
      clogDir,
      fs: logFs,
      writer,
      release,
      recovered: recovery.image,
      ...(recovery.cut ? { historyCut: recovery.cut } : {}),
      snapshots: recovery.snapshotOffsets,
      meta: stored?.meta ?? {},
      schemaHash,
      snapshotEvery,
    });
  } catch (e) {
    release();
    throw e;
  }
}

interface DiskDurabilityParts {
  readonly dir: string;
  readonly snapDir: string;
  readonly clogDir: string;
  readonly fs: LogFs;
  readonly writer: LogWriter;
  readonly release: () => void;
  readonly recovered: DatabaseImage;
  readonly historyCut?: HistoryCutReport;
  /** Snapshot offsets on disk, oldest first. */
  readonly snapshots: bigint[];
  readonly meta: Readonly<Record<string, string>>;
  readonly schemaHash: string | undefined;
  readonly snapshotEvery: number;
}

class DiskDurability implements Durability {
  readonly recovered: DatabaseImage;
  readonly historyCut?: HistoryCutReport;
  private metaNow: Readonly<Record<string, string>>;
  private nextOffset: bigint;
  /** Newest snapshot written or being written; what `shouldSnapshot` counts from. */
  private snapshotRequested: bigint;
  private snapshotChain: Promise<void> = Promise.resolve();
  private snapshotsPending = 0;
  private closing: Promise<void> | undefined;
  private stallHandler: Parameters<NonNullable<Durability['onStall']>>[0] | undefined;

  constructor(private readonly parts: DiskDurabilityParts) {
    this.recovered = parts.recovered;
    if (parts.historyCut) this.historyCut = parts.historyCut;
    this.metaNow = Object.freeze({ ...parts.meta });
    this.nextOffset = parts.recovered.offset + 1n;
    this.snapshotRequested = parts.snapshots.at(-1) ?? -1n;
    parts.writer.onStall({
      stalled: (lastLogged, reason) => {
        // What was not logged is gone from the log: the next append takes its offset again.
        this.nextOffset = lastLogged + 1n;
        this.stallHandler?.stalled(lastLogged, reason);
      },
      resumed: () => this.stallHandler?.resumed(),
    });
  }

  blocked(): string | undefined {
    return this.parts.writer.stalledReason;
  }

  onStall(handler: Parameters<NonNullable<Durability['onStall']>>[0]): void {
    this.stallHandler = handler;
  }

  get meta(): Readonly<Record<string, string>> {
    return this.metaNow;
  }

  setMeta(meta: Record<string, string>): void {
    this.assertOpen('setMeta');
    const copy = Object.freeze({ ...meta });
    writeMetaFile(this.parts.dir, { schemaHash: this.parts.schemaHash, meta: copy });
    this.metaNow = copy;
  }

  append(tx: DurableTx): void {
    this.assertOpen('append');
    if (tx.offset !== this.nextOffset)
      throw new DurabilityError(
        'offset-out-of-order',
        `append got offset ${tx.offset}, expected ${this.nextOffset}`,
      );
    let frame: Uint8Array;
    try {
      frame = frameTx(tx);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError)
        throw new DurabilityError('invalid-argument', `tx ${tx.offset} cannot be encoded: ${e.message}`, {
          cause: e,
        });
      throw e;
    }
    this.parts.writer.append(tx.offset, frame);
    this.nextOffset++;
  }

  durableOffset(): bigint {
    return this.parts.writer.durableOffset();
  }

  waitDurable(offset: bigint): Promise<void> {
    return this.parts.writer.waitDurable(offset);
  }

  shouldSnapshot(): boolean {
    return (
      this.closing === undefined &&
      this.snapshotsPending === 0 &&
      this.nextOffset - 1n - this.snapshotRequested >= BigInt(this.parts.snapshotEvery)
    );
  }

  snapshot(image: DatabaseImage): Promise<void> {
    if (this.closing) return Promise.reject(new DurabilityError('closed', 'snapshot after close()'));
    const lastAppended = this.nextOffset - 1n;
    if (image.offset > lastAppended)
      return Promise.reject(
        new DurabilityError(
          'invalid-argument',
          `snapshot at ${image.offset} is ahead of the log (last ${lastAppended})`,
        ),
      );
    // Already written or queued: settle when the queue has caught up.
    if (image.offset <= this.snapshotRequested) return this.snapshotChain;
    // Serialize now: the caller keeps mutating its tables after this returns.
    let bytes: Uint8Array;
    try {
      bytes = encodeSnapshot(image, this.parts.schemaHash);
    } catch (e) {
      return Promise.reject(
        new DurabilityError(
          'invalid-argument',
          `snapshot at ${image.offset} cannot be encoded: ${String(e)}`,
          {
            cause: e,
          },
        ),
      );
    }
    const previous = this.snapshotRequested;
    this.snapshotRequested = image.offset;
    this.snapshotsPending++;
    const run = this.snapshotChain.then(() => this.writeSnapshot(image.offset, bytes));
    this.snapshotChain = run.then(
      () => {
        this.snapshotsPending--;
      },
      () => {
        this.snapshotsPending--;
        // Failed: let shouldSnapshot ask again rather than count from a snapshot that does not exist.
        if (this.snapshotRequested === image.offset) this.snapshotRequested = previous;
      },
    );
    return run;
  }

  private async writeSnapshot(offset: bigint, bytes: Uint8Array): Promise<void> {
    const { snapDir, clogDir, snapshots, writer, fs } = this.parts;
    // Never let a snapshot get ahead of the durable log: recovery would have nothing to continue from.
    await writer.waitDurable(offset);
    const name = offsetName(offset, SNAPSHOT_EXT);
    try {
      await writeFileAtomic(snapDir, name, bytes);
    } catch (e) {
      await unlink(`${snapDir}/${name}.tmp`).catch(() => {});
      throw e;
    }
    snapshots.push(offset);
    const dropped = snapshots.splice(0, Math.max(0, snapshots.length - SNAPSHOTS_KEPT));
    for (const old of dropped) await unlink(`${snapDir}/${offsetName(old, SNAPSHOT_EXT)}`).catch(() => {});
    const oldestKept = snapshots.length >= SNAPSHOTS_KEPT ? snapshots[0] : undefined;
    if (oldestKept === undefined) return;
    const covered = writer.takeSegmentsCoveredBy(oldestKept);
    for (const segment of covered) await fs.remove(segment.path);
    if (covered.length > 0) await fsyncDir(clogDir);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        // A snapshot's failure is reported to whoever asked for it; closing still has to finish.
        await this.snapshotChain.catch(() => {});
        await this.parts.writer.close();
      } finally {
        this.parts.release();
      }
    })();
    return this.closing;
  }

  private assertOpen(what: string): void {
    if (this.closing) throw new DurabilityError('closed', `${what} after close()`);
  }
}
