import { afterEach, describe, expect, it, vi } from 'vitest';
import { isDurabilityError } from './errors.js';
import { FRAME_HEADER_BYTES, frameTx } from './frame.js';
import type { LogFile, LogFs } from './log-fs.js';
import { LogWriter } from './log-writer.js';
import { SEGMENT_HEADER_BYTES } from './segment-file.js';
import { workloadTx } from './testing/crash-model.js';
import { peekTxOffset } from './tx-codec.js';
import type { FsyncPolicy } from './types.js';

type Op =
  | { readonly op: 'create' | 'close' | 'syncDir'; readonly path: string }
  | { readonly op: 'write'; readonly path: string; readonly offsets: bigint[] }
  | { readonly op: 'sync'; readonly path: string; readonly covers: bigint[] };

/** In-memory files that remember which offsets were written and which an fsync covered. */
class RecordingFs implements LogFs {
  readonly ops: Op[] = [];
  /** When set, the next fsync waits until `release()` is called. */
  holdSync = false;
  failSync = false;
  private heldRelease: (() => void) | undefined;
  private readonly written = new Map<string, bigint[]>();
  private readonly synced = new Set<bigint>();

  isSynced(offset: bigint): boolean {
    return this.synced.has(offset);
  }

  count(op: Op['op']): number {
    return this.ops.filter((o) => o.op === op).length;
  }

  release(): void {
    this.holdSync = false;
    this.heldRelease?.();
  }

  private file(path: string): LogFile {
    return {
      append: async (chunks) => {
        const offsets = chunks.map((c) => peekTxOffset(Buffer.from(c).subarray(FRAME_HEADER_BYTES)));
        this.written.get(path)?.push(...offsets);
        this.ops.push({ op: 'write', path, offsets });
      },
      truncate: async () => {},
      sync: async () => {
        if (this.failSync) throw new Error('EIO: simulated disk failure');
        const covers = [...(this.written.get(path) ?? [])];
        if (this.holdSync) await new Promise<void>((r) => (this.heldRelease = r));
        for (const o of covers) this.synced.add(o);
        this.ops.push({ op: 'sync', path, covers });
      },
      close: async () => {
        this.ops.push({ op: 'close', path });
      },
    };
  }

  async create(path: string, header: Uint8Array): Promise<LogFile> {
    expect(header.length).toBe(SEGMENT_HEADER_BYTES);
    this.written.set(path, []);
    this.ops.push({ op: 'create', path });
    return this.file(path);
  }

  resume(path: string): LogFile {
    this.written.set(path, []);
    return this.file(path);
  }

  async syncDir(path: string): Promise<void> {
    this.ops.push({ op: 'syncDir', path });
  }

  async remove(): Promise<void> {}

  async probeSpace(): Promise<void> {}
}

function writer(fs: RecordingFs, policy: FsyncPolicy, segmentBytes = 1 << 20): LogWriter {
  return new LogWriter({ clogDir: '/clog', fs, policy, segmentBytes, segments: [], lastOffset: -1n });
}

function appendRange(w: LogWriter, from: bigint, to: bigint): void {
  for (let o = from; o <= to; o++) w.append(o, frameTx(workloadTx(o)));
}

afterEach(() => {
  vi.useRealTimers();
});

describe("fsync 'always'", () => {
  it('reports an offset durable only once an fsync covering it has completed', async () => {
    const fs = new RecordingFs();
    const w = writer(fs, 'always');
    const checks: Promise<void>[] = [];
    for (let o = 0n; o < 30n; o++) {
      w.append(o, frameTx(workloadTx(o)));
      checks.push(
        w.waitDurable(o).then(() => {
          expect(fs.isSynced(o), `offset ${o}`).toBe(true);
          expect(w.durableOffset()).toBeGreaterThanOrEqual(o);
        }),
      );
      if (o % 7n === 0n) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(checks);
    await w.close();
  });

  it('appends made while an fsync runs share the next write and fsync', async () => {
    const fs = new RecordingFs();
    const w = writer(fs, 'always');
    fs.holdSync = true;
    appendRange(w, 0n, 0n);
    await expect.poll(() => fs.count('write')).toBe(1);
    appendRange(w, 1n, 10n);
    await new Promise((r) => setImmediate(r));
    expect(w.durableOffset()).toBe(-1n);
    fs.release();
    await w.waitDurable(10n);
    expect(
      fs.ops.filter((o) => o.op === 'write').map((o) => (o.op === 'write' ? o.offsets.length : 0)),
    ).toEqual([1, 10]);
    expect(fs.count('sync')).toBe(2);
    await w.close();
  });
});

describe("fsync 'never'", () => {
  it('counts an offset durable once written, and only fsyncs on close', async () => {
    const fs = new RecordingFs();
    const w = writer(fs, 'never');
    appendRange(w, 0n, 19n);
    await w.waitDurable(19n);
    expect(fs.count('write')).toBeGreaterThan(0);
    expect(fs.count('sync')).toBe(0);
    await w.close();
    expect(fs.count('sync')).toBe(1);
    expect(fs.isSynced(19n)).toBe(true);
  });
});

describe('fsync { intervalMs }', () => {
  it('writes at once but holds the durable offset until the interval fsync', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fs = new RecordingFs();
    const w = writer(fs, { intervalMs: 50 });
    // (vi.waitFor would advance the fake clock; setImmediate is left real and lets the writes finish.)
    appendRange(w, 0n, 4n);
    await new Promise((r) => setImmediate(r));
    expect(fs.count('write')).toBe(1);
    appendRange(w, 5n, 9n);
    await new Promise((r) => setImmediate(r));
    expect(fs.count('write')).toBe(2);
    await vi.advanceTimersByTimeAsync(49);
    expect(w.durableOffset()).toBe(-1n);
    expect(fs.count('sync')).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await w.waitDurable(9n);
    // One fsync for both writes.
    expect(fs.count('sync')).toBe(1);
    await w.close();
  });
});

describe('segment rotation', () => {
  it('fsyncs a full segment before starting the next, and fsyncs the directory before using it', async () => {
    const fs = new RecordingFs();
    const w = writer(fs, 'never', 2048);
    appendRange(w, 0n, 39n);
    await w.waitDurable(39n);
    await w.close();
    const creates = fs.ops.flatMap((o, i) => (o.op === 'create' ? [i] : []));
    expect(creates.length).toBeGreaterThan(2);
    for (const [n, at] of creates.entries()) {
      expect(fs.ops[at + 1]?.op, 'directory fsync right after create').toBe('syncDir');
      if (n === 0) continue;
      expect(fs.ops[at - 1]?.op).toBe('close');
      expect(fs.ops[at - 2]?.op, 'the previous segment is fsynced before it is closed').toBe('sync');
    }
    // Every segment is named for the first offset written to it.
    for (const at of creates) {
      const create = fs.ops[at] as { path: string };
      const firstWrite = fs.ops.slice(at).find((o) => o.op === 'write') as { offsets: bigint[] };
      expect(create.path).toBe(`/clog/${(firstWrite.offsets[0] as bigint).toString().padStart(20, '0')}.log`);
    }
  });
});

describe('waitDurable', () => {
  it('settles in offset order whatever order it was called in', async () => {
    const fs = new RecordingFs();
    const w = writer(fs, 'always');
    const order: bigint[] = [];
    const offsets = [7n, 2n, 9n, 0n, 5n, 5n, 1n, 8n, 3n];
    const all = offsets.map((o) => w.waitDurable(o).then(() => order.push(o)));
    appendRange(w, 0n, 9n);
    await Promise.all(all);
    expect(order).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    await w.close();
  });

  it('rejects waiters and later appends with an io error once an fsync fails', async () => {
    const fs = new RecordingFs();
    fs.failSync = true;
    const w = writer(fs, 'always');
    appendRange(w, 0n, 2n);
    const error = await w.waitDurable(2n).catch((e: unknown) => e);
    expect(isDurabilityError(error, 'io')).toBe(true);
    expect(String(error)).toMatch(/EIO/);
    expect(() => appendRange(w, 3n, 3n)).toThrow(/\[io\]/);
    await expect(w.close()).rejects.toMatchObject({ code: 'io' });
  });
});
