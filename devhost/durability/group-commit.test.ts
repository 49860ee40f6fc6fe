/**
 * The default fsync policy is group commit, as in SpacetimeDB's local durability: an append made
 * while the log is idle is written and fsynced at once — no timer is armed, so a confirmed read waits
 * for the fsync and nothing else — and the appends that arrive while an fsync runs share the next one.
 * Timers are faked and never advanced here: a policy that waits for a tick never becomes durable.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDurability } from './index.js';
import type { LogFile } from './log-fs.js';
import { workloadTx } from './testing/crash-model.js';
import { DelegatingFs } from './testing/delegating-fs.js';
import { appendWorkload, removeTempDataDirs, tempDataDir } from './testing/fixtures.js';

/** node:fs underneath; counts writes and fsyncs, and holds each fsync until released. */
class GatedFs extends DelegatingFs {
  writes = 0;
  syncsStarted = 0;
  syncsDone = 0;
  private written: (() => void) | undefined;
  private held: (() => void)[] = [];

  /** Resolves once the next write has reached the file. */
  nextWrite(): Promise<void> {
    return new Promise((r) => {
      this.written = r;
    });
  }

  /** Lets every fsync started so far complete. */
  release(): void {
    for (const r of this.held.splice(0)) r();
  }

  protected override async fileAppend(file: LogFile, chunks: readonly Uint8Array[]): Promise<void> {
    await file.append(chunks);
    this.writes++;
    this.written?.();
  }
  protected override async fileSync(file: LogFile): Promise<void> {
    this.syncsStarted++;
    await new Promise<void>((r) => this.held.push(r));
    await file.sync();
    this.syncsDone++;
  }
}

/** One event-loop turn (setImmediate is not faked): every continuation of a settled write has run. */
const turn = () => new Promise<void>((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
  removeTempDataDirs();
});

describe('the default fsync policy: group commit', () => {
  it('fsyncs an append made while idle at once, with no timer, and releases its wait when that fsync completes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const fs = new GatedFs();
    const d = openDurability(tempDataDir(), { logFs: fs });
    const wrote = fs.nextWrite();
    d.append(workloadTx(0n));
    let durable = false;
    const waited = d.waitDurable(0n).then(() => {
      durable = true;
    });
    await wrote;
    await turn();
    // Written, and its fsync already running: nothing waits for a timer (the 5 ms interval did).
    expect(fs.syncsStarted).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    await turn();
    expect(durable, 'durable before its fsync completed').toBe(false);

    // Appends made while that fsync runs wait for it, then share one write and one fsync.
    appendWorkload(d, 1n, 5n);
    const second = fs.nextWrite();
    fs.release();
    await waited;
    expect(d.durableOffset()).toBe(0n);
    await second;
    await turn();
    expect(fs.writes).toBe(2);
    expect(fs.syncsStarted).toBe(2);
    fs.release();
    await d.waitDurable(5n);
    expect(fs.syncsDone).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    await d.close();
  });

  it('keeps the interval policy when asked for: the append waits for the tick', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fs = new GatedFs();
    const d = openDurability(tempDataDir(), { logFs: fs, fsync: { intervalMs: 5 } });
    const wrote = fs.nextWrite();
    d.append(workloadTx(0n));
    await wrote;
    await turn();
    expect(fs.syncsStarted).toBe(0);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5);
    expect(fs.syncsStarted).toBe(1);
    fs.release();
    await d.waitDurable(0n);
    await d.close();
  });
});
