/**
 * Background writer for the commit log. `append` only queues an encoded frame; one async loop writes
 * whatever is queued in a single writev, rotates segments by size, and fsyncs per policy. Appends that
 * arrive while an fsync is running are written and fsynced together next round (group commit).
 *
 * A write refused for lack of space (ENOSPC, EDQUOT) stalls the writer instead of failing it for
 * good: the records that did not reach the file are dropped (the file is cut back to its last whole
 * record), their waiters rejected, and the owner told which offset is the last logged one so it can
 * roll the rest back. Appends are refused while stalled; a background probe (a small file written,
 * fsynced, removed) ends the stall once space returns.
 */
import { DurabilityError } from './errors.js';
import type { LogFile, LogFs } from './log-fs.js';
import { SEGMENT_HEADER_BYTES, type SegmentRef, segmentHeader, segmentPath } from './segment-file.js';
import type { FsyncPolicy } from './types.js';
import { DurableWaiters } from './waiters.js';

export interface LogWriterOptions {
  readonly clogDir: string;
  readonly fs: LogFs;
  readonly policy: FsyncPolicy;
  readonly segmentBytes: number;
  /** Segments already on disk, oldest first; the writer appends to this list as it rotates. */
  readonly segments: SegmentRef[];
  /** Continue in this existing segment (valid length `size`) instead of starting a new one. */
  readonly resume?: { readonly path: string; readonly size: number } | undefined;
  /** Offset of the last transaction already in the log (-1n: none). */
  readonly lastOffset: bigint;
  /** While stalled for space: how often to probe for it again. Default 1000 ms. */
  readonly spaceProbeMs?: number;
}

/** What the writer's owner hears about a stall for lack of space. */
export interface StallHandler {
  /** Records after `lastLogged` never reached the log; `reason` says why. */
  stalled(lastLogged: bigint, reason: string): void;
  resumed(): void;
}

interface ActiveSegment {
  readonly file: LogFile;
  /** Bytes counted for frames handed to the writer, flushed or not. */
  size: number;
  /** Bytes known to be in the file: the length to cut back to when a write fails. */
  flushed: number;
}

const SPACE_ERRORS = new Set(['ENOSPC', 'EDQUOT']);
const isSpaceError = (e: unknown): boolean => SPACE_ERRORS.has((e as NodeJS.ErrnoException)?.code ?? '');
const SPACE_PROBE_BYTES = 256 * 1024;

interface QueuedFrame {
  readonly offset: bigint;
  readonly bytes: Uint8Array;
}

export class LogWriter {
  private readonly opts: LogWriterOptions;
  private readonly waiters = new DurableWaiters();
  private queue: QueuedFrame[] = [];
  private active: ActiveSegment | undefined;
  /** Highest offset handed to the OS. */
  private writtenTo: bigint;
  /** Highest offset covered by an fsync. */
  private syncedTo: bigint;
  /** Highest offset that counts as durable under the policy. */
  private durableTo: bigint;
  private pumping = false;
  private pumpDone: Promise<void> = Promise.resolve();
  private kickQueued = false;
  private syncWanted = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: DurabilityError | undefined;
  private closing: Promise<void> | undefined;
  /** Set while writes are refused for lack of space. */
  private stall: DurabilityError | undefined;
  private stallHandler: StallHandler | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** A segment being created: removed again if creating it ran out of space. */
  private creating: string | undefined;

  constructor(opts: LogWriterOptions) {
    this.opts = opts;
    this.writtenTo = this.syncedTo = this.durableTo = opts.lastOffset;
    if (opts.resume)
      this.active = {
        file: opts.fs.resume(opts.resume.path),
        size: opts.resume.size,
        flushed: opts.resume.size,
      };
  }

  onStall(handler: StallHandler): void {
    this.stallHandler = handler;
  }

  /** Why appends are refused right now (no space), or undefined. */
  get stalledReason(): string | undefined {
    return this.stall?.message;
  }

  durableOffset(): bigint {
    return this.durableTo;
  }

  /** Queues one framed record; the caller guarantees consecutive offsets. */
  append(offset: bigint, frame: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.stall) throw this.stall;
    if (this.closing) throw new DurabilityError('closed', 'append after close()');
    this.queue.push({ offset, bytes: frame });
    if (!this.pumping && !this.kickQueued) {
      // A microtask, so appends made in the same synchronous run share one write and one fsync.
      this.kickQueued = true;
      queueMicrotask(() => {
        this.kickQueued = false;
        this.kick();
      });
    }
  }

  waitDurable(offset: bigint): Promise<void> {
    if (offset <= this.durableTo) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    // While stalled every offset past the last logged one belongs to a transaction the log could not
    // hold (rolled back). Waiting would be released once space returns and a *different* transaction
    // reuses the offset: a confirmed read would then send state that never became durable (chaos
    // long run 7fa2405: clients saw a rolled-back append, then the stream's head go back under them).
    if (this.stall && offset > this.writtenTo) return Promise.reject(this.stall);
    if (this.closing)
      return Promise.reject(new DurabilityError('closed', `offset ${offset} was never appended`));
    return this.waiters.wait(offset);
  }

  /**
   * Removes from the segment list, and returns, the segments whose every record is <= `offset`. The
   * newest segment is never among them: appends go there.
   */
  takeSegmentsCoveredBy(offset: bigint): SegmentRef[] {
    const { segments } = this.opts;
    let n = 0;
    while (n < segments.length - 1 && (segments[n + 1] as SegmentRef).firstOffset - 1n <= offset) n++;
    return segments.splice(0, n);
  }

  /** Writes and fsyncs everything queued, closes the file; rejects waiters that can no longer be met. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
      this.syncWanted = true;
      this.kick();
      while (this.pumping) await this.pumpDone;
      const file = this.active?.file;
      this.active = undefined;
      if (file) await file.close().catch((e: unknown) => this.fail(e));
      this.waiters.rejectAll(
        this.failure ?? new DurabilityError('closed', 'closed before this offset was appended'),
      );
      if (this.failure) throw this.failure;
    })();
    return this.closing;
  }

  private kick(): void {
    if (this.pumping || this.failure || this.stall) return;
    this.pumpDone = this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.failure && !this.stall) {
        if (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          try {
            await this.writeBatch(batch);
          } catch (e) {
            if (!isSpaceError(e)) throw e;
            await this.stallForSpace(e);
            return;
          }
          const { policy } = this.opts;
          if (policy === 'always') await this.sync();
          else if (policy === 'never') this.advanceDurable(this.writtenTo);
          else this.armTimer(policy.intervalMs);
        } else if (this.syncWanted) {
          this.syncWanted = false;
          await this.sync();
        } else return;
      }
    } catch (e) {
      this.fail(e);
    } finally {
      // No await between the last emptiness check and here, so no append can be stranded.
      this.pumping = false;
    }
  }

  private async writeBatch(batch: readonly QueuedFrame[]): Promise<void> {
    let chunks: Uint8Array[] = [];
    let chunksLast = this.writtenTo;
    for (const frame of batch) {
      let active = this.active;
      if (active === undefined) {
        active = await this.openSegment(frame.offset);
      } else if (
        active.size > SEGMENT_HEADER_BYTES &&
        active.size + frame.bytes.length > this.opts.segmentBytes
      ) {
        await this.flush(active, chunks, chunksLast);
        chunks = [];
        active = await this.rotate(active, frame.offset);
      }
      chunks.push(frame.bytes);
      chunksLast = frame.offset;
      active.size += frame.bytes.length;
    }
    if (this.active) await this.flush(this.active, chunks, chunksLast);
  }

  private async flush(active: ActiveSegment, chunks: Uint8Array[], last: bigint): Promise<void> {
    if (chunks.length === 0) return;
    await active.file.append(chunks);
    active.flushed = active.size;
    this.writtenTo = last;
  }

  /**
   * A write ran out of space: what was not written is given up (the owner rolls it back), the file is
   * cut back to its last whole record, and a probe waits for space.
   */
  private async stallForSpace(e: unknown): Promise<void> {
    const lastLogged = this.writtenTo;
    this.queue = [];
    this.stall = new DurabilityError(
      'no-space',
      `the commit log cannot grow (${String(e)}): transactions after offset ${lastLogged} were not logged; ` +
        'new ones are refused until space returns',
      { cause: e },
    );
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiters.rejectAbove(lastLogged, this.stall);
    this.stallHandler?.stalled(lastLogged, this.stall.message);
    try {
      const active = this.active;
      if (active && active.size !== active.flushed) {
        await active.file.truncate(active.flushed);
        active.size = active.flushed;
      }
      if (this.creating !== undefined) {
        // Its header may be half there; recovery would remove it too, but appends must not find it.
        await this.opts.fs.remove(this.creating).catch(() => {});
        this.creating = undefined;
      }
      // What did reach the file becomes durable as usual (the interval's timer was cleared above).
      await this.sync();
    } catch (cut) {
      this.fail(cut);
      return;
    }
    this.armProbe();
  }

  private armProbe(): void {
    if (this.closing || this.failure) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      this.opts.fs.probeSpace(this.opts.clogDir, SPACE_PROBE_BYTES).then(
        () => {
          if (this.closing || this.failure) return;
          this.stall = undefined;
          this.stallHandler?.resumed();
          this.kick();
        },
        () => this.armProbe(),
      );
    }, this.opts.spaceProbeMs ?? 1000);
  }

  /**
   * A finished segment is fsynced before the next one exists, under every policy: recovery relies on
   * only the newest segment ever having a torn tail.
   */
  private async rotate(old: ActiveSegment, nextOffset: bigint): Promise<ActiveSegment> {
    await this.sync();
    this.active = undefined;
    await old.file.close();
    return this.openSegment(nextOffset);
  }

  private async openSegment(firstOffset: bigint): Promise<ActiveSegment> {
    const path = segmentPath(this.opts.clogDir, firstOffset);
    this.creating = path;
    const file = await this.opts.fs.create(path, segmentHeader(firstOffset));
    this.creating = undefined;
    // The new directory entry must survive a crash before any offset in it can count as durable.
    await this.opts.fs.syncDir(this.opts.clogDir);
    this.opts.segments.push({ firstOffset, path });
    this.active = { file, size: SEGMENT_HEADER_BYTES, flushed: SEGMENT_HEADER_BYTES };
    return this.active;
  }

  private async sync(): Promise<void> {
    const target = this.writtenTo;
    if (target <= this.syncedTo || !this.active) return;
    await this.active.file.sync();
    this.syncedTo = target;
    this.advanceDurable(target);
  }

  private advanceDurable(offset: bigint): void {
    if (offset <= this.durableTo) return;
    this.durableTo = offset;
    this.waiters.release(offset);
  }

  private armTimer(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.syncWanted = true;
      this.kick();
    }, intervalMs);
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = new DurabilityError('io', `writing the commit log failed: ${String(e)}`, { cause: e });
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiters.rejectAll(this.failure);
  }
}
