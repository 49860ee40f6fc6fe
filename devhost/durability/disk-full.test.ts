/**
 * The commit log running out of space (security audit finding 4), with the fault injected at the
 * log's file seam (`logFs`) so it runs anywhere: a write that fails with ENOSPC leaves no partial
 * record, the offsets it could not log are reported (never durable, their waiters rejected), appends
 * are refused while the disk is full, and the log takes appends again by itself once space returns.
 * The same on a real small tmpfs, through devhost and the service: test/devhost/disk-full.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type DurabilityOptions, isDurabilityError, openDurability } from './index.js';
import { comparable, SetModel, workloadTx } from './testing/crash-model.js';
import { FillableFs } from './testing/fillable-fs.js';
import { appendWorkload, removeTempDataDirs, tempDataDir, warnings } from './testing/fixtures.js';

afterEach(removeTempDataDirs);

function open(dir: string, fs: FillableFs, options: DurabilityOptions = {}) {
  return openDurability(dir, { logFs: fs, spaceProbeMs: 5, fsync: 'always', ...options });
}

describe('the commit log out of space', () => {
  it('reports what it could not log, refuses appends while full, and resumes by itself once space returns', async () => {
    const dir = tempDataDir();
    const fs = new FillableFs();
    const d = open(dir, fs);
    const stalls: bigint[] = [];
    let resumed = 0;
    d.onStall?.({ stalled: (last) => stalls.push(last), resumed: () => resumed++ });
    appendWorkload(d, 0n, 9n);
    await d.waitDurable(9n);

    fs.full = true;
    d.append(workloadTx(10n));
    d.append(workloadTx(11n));
    const lost = await d.waitDurable(11n).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDurabilityError(lost, 'no-space')).toBe(true);
    expect(String(lost)).toMatch(/ENOSPC.*transactions after offset 9 were not logged/);
    expect(stalls).toEqual([9n]);
    expect(d.blocked?.()).toMatch(/ENOSPC/);
    expect(() => d.append(workloadTx(10n))).toThrow(/no-space/);
    expect(d.durableOffset()).toBe(9n);

    fs.full = false;
    await expect.poll(() => d.blocked?.()).toBeUndefined();
    expect(resumed).toBe(1);
    appendWorkload(d, 10n, 14n); // offset 10 again: what was not logged is gone
    await d.waitDurable(14n);
    await d.close(); // a clean close, not the stall's error

    const w = warnings();
    const again = openDurability(dir, { onWarning: w.onWarning });
    expect(comparable(again.recovered)).toEqual(comparable(new SetModel().advanceTo(14n).image()));
    expect(w.messages).toEqual([]); // the half-written record was cut when the write failed
    await again.close();
  });

  it('a full disk while a new segment is created leaves no half-made segment behind', async () => {
    const dir = tempDataDir();
    const fs = new FillableFs();
    const d = open(dir, fs, { segmentBytes: 2048 });
    const stalls: bigint[] = [];
    d.onStall?.({ stalled: (last) => stalls.push(last), resumed: () => {} });
    appendWorkload(d, 0n, 5n);
    await d.waitDurable(5n);
    fs.full = true;
    appendWorkload(d, 6n, 40n); // crosses into new segments
    await expect(d.waitDurable(40n)).rejects.toThrow(/no-space/);
    const [last] = stalls as [bigint];
    expect(last).toBeGreaterThanOrEqual(5n);
    expect(d.durableOffset()).toBe(last);
    fs.full = false;
    await expect.poll(() => d.blocked?.()).toBeUndefined();
    appendWorkload(d, last + 1n, last + 30n);
    await d.waitDurable(last + 30n);
    await d.close();
    const w = warnings();
    const again = openDurability(dir, { onWarning: w.onWarning });
    expect(comparable(again.recovered)).toEqual(comparable(new SetModel().advanceTo(last + 30n).image()));
    expect(w.messages).toEqual([]);
    await again.close();
  });
});
