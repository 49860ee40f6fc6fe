/**
 * Damage in the middle of the commit log is not a torn tail (security audit finding 3): acknowledged
 * transactions after a flipped bit must never be cut away silently. Opening refuses with the byte and
 * offset; the operator's `truncateCorrupt` cuts there, keeps the cut bytes aside and reports the cut.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type DurabilityOptions, isDurabilityError, openDurability } from './index.js';
import { comparable, SetModel } from './testing/crash-model.js';
import { appendWorkload, files, removeTempDataDirs, tempDataDir, warnings } from './testing/fixtures.js';

afterEach(removeTempDataDirs);

async function written(last: bigint, options: DurabilityOptions = {}): Promise<string> {
  const dir = tempDataDir();
  const d = openDurability(dir, options);
  appendWorkload(d, 0n, last);
  await d.close();
  return dir;
}

const segments = (dir: string) => files(`${dir}/clog`).map((n) => `${dir}/clog/${n}`);

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = (bytes[at] as number) ^ 0x20;
  writeFileSync(path, bytes);
}

function openError(dir: string, options: DurabilityOptions = {}): unknown {
  try {
    openDurability(dir, options);
  } catch (e) {
    return e;
  }
  throw new Error('expected openDurability to fail');
}

describe('a damaged record in the middle of the newest segment', () => {
  it('refuses to open, naming the segment, the byte and the offsets that would be lost; the file is untouched', async () => {
    const dir = await written(39n);
    const [segment] = segments(dir) as [string];
    const size = statSync(segment).size;
    flipByte(segment, Math.floor(size / 2));
    const before = readFileSync(segment);

    const error = openError(dir);
    expect(isDurabilityError(error, 'corrupt')).toBe(true);
    expect(String(error)).toMatch(
      /log segment .*00000000000000000000\.log: the record at byte \d+ \(log offset (\d+)\) is damaged .* committed records up to offset 39 follow it: .*not a torn tail.*--truncate-corrupt/,
    );
    expect(readFileSync(segment).equals(before)).toBe(true); // evidence kept
  });

  it('with truncateCorrupt: cuts at the damage, keeps the cut bytes aside, reports the cut, and appends continue', async () => {
    const dir = await written(39n);
    const [segment] = segments(dir) as [string];
    flipByte(segment, Math.floor(statSync(segment).size / 2));
    const original = readFileSync(segment);

    const w = warnings();
    const d = openDurability(dir, { truncateCorrupt: true, onWarning: w.onWarning });
    const cut = d.historyCut;
    expect(cut).toBeDefined();
    expect(cut?.throughOffset).toBe(39n);
    const lastKept = (cut?.fromOffset as bigint) - 1n;
    expect(d.recovered.offset).toBe(lastKept);
    expect(comparable(d.recovered)).toEqual(comparable(new SetModel().advanceTo(lastKept).image()));
    expect(w.messages.join('\n')).toMatch(
      new RegExp(`--truncate-corrupt: cut log offsets ${cut?.fromOffset}\\.\\.39 at byte ${cut?.atByte}`),
    );
    expect(cut?.keptAs).toHaveLength(1);
    expect(readFileSync(cut?.keptAs[0] as string).equals(original)).toBe(true);
    appendWorkload(d, lastKept + 1n, lastKept + 3n);
    await d.close();

    const again = openDurability(dir);
    expect(again.historyCut).toBeUndefined();
    expect(comparable(again.recovered)).toEqual(comparable(new SetModel().advanceTo(lastKept + 3n).image()));
    await again.close();
  });

  it('a torn tail (nothing intact after the bad bytes) is still cut on its own, without the override', async () => {
    const dir = await written(19n);
    const [segment] = segments(dir) as [string];
    const size = statSync(segment).size;
    flipByte(segment, size - 5); // inside the last record
    const w = warnings();
    const d = openDurability(dir, { onWarning: w.onWarning });
    expect(d.recovered.offset).toBe(18n);
    expect(d.historyCut).toBeUndefined();
    expect(w.messages.join('\n')).toMatch(/torn tail/);
    await d.close();
  });
});

describe('a damaged older segment with truncateCorrupt', () => {
  it('cuts there and moves every later segment aside instead of failing with a log gap', async () => {
    const dir = await written(199n, { segmentBytes: 4096 });
    const all = segments(dir);
    const [first] = all as [string];
    flipByte(first, statSync(first).size - 100);
    expect(isDurabilityError(openError(dir), 'log-gap')).toBe(true);

    const d = openDurability(dir, { truncateCorrupt: true });
    expect(d.historyCut?.throughOffset).toBe(199n);
    expect(d.recovered.offset).toBe((d.historyCut?.fromOffset as bigint) - 1n);
    await d.close();
    for (const later of all.slice(1)) {
      expect(existsSync(later)).toBe(false);
      expect(existsSync(`${later}.cut`)).toBe(true);
    }
  });
});
