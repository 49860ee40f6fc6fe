import {
  appendFileSync,
  existsSync,
  readFileSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type DurabilityOptions, isDurabilityError, openDurability } from './index.js';
import { comparable, SetModel, workloadTx } from './testing/crash-model.js';
import { appendWorkload, files, removeTempDataDirs, tempDataDir, warnings } from './testing/fixtures.js';

afterEach(removeTempDataDirs);

function expected(last: bigint): ReturnType<typeof comparable> {
  return comparable(new SetModel().advanceTo(last).image());
}

/** A directory holding workload txs 0..`last`, closed cleanly. */
async function written(last: bigint, options: DurabilityOptions = {}): Promise<string> {
  const dir = tempDataDir();
  const d = openDurability(dir, options);
  appendWorkload(d, 0n, last);
  await d.close();
  return dir;
}

function segmentPaths(dir: string): string[] {
  return files(`${dir}/clog`).map((n) => `${dir}/clog/${n}`);
}

function openError(dir: string, options: DurabilityOptions = {}): unknown {
  try {
    openDurability(dir, options);
  } catch (e) {
    return e;
  }
  throw new Error('expected openDurability to fail');
}

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = (bytes[at] as number) ^ 0x20;
  writeFileSync(path, bytes);
}

describe('torn log tail', () => {
  it('a record cut mid-way is dropped with a warning; the prefix survives and appends continue', async () => {
    const dir = await written(19n);
    const [segment] = segmentPaths(dir) as [string];
    truncateSync(segment, statSync(segment).size - 7);

    const w = warnings();
    const d = openDurability(dir, { onWarning: w.onWarning });
    expect(comparable(d.recovered)).toEqual(expected(18n));
    expect(w.messages.join('\n')).toMatch(/torn tail/);
    d.append(workloadTx(19n));
    d.append(workloadTx(20n));
    await d.close();

    const again = openDurability(dir);
    expect(comparable(again.recovered)).toEqual(expected(20n));
    await again.close();
  });

  it('garbage after the last record is cut off, leaving the file as it was', async () => {
    const dir = await written(19n);
    const [segment] = segmentPaths(dir) as [string];
    const cleanSize = statSync(segment).size;
    appendFileSync(segment, Buffer.from('not a record, just noise that landed after the last write'));

    const w = warnings();
    const d = openDurability(dir, { onWarning: w.onWarning });
    expect(comparable(d.recovered)).toEqual(expected(19n));
    expect(w.messages).toHaveLength(1);
    expect(statSync(segment).size).toBe(cleanSize);
    await d.close();
  });

  it('a zero-filled tail (file extended, data never written) is cut off', async () => {
    const dir = await written(9n);
    const [segment] = segmentPaths(dir) as [string];
    appendFileSync(segment, Buffer.alloc(8192));
    const d = openDurability(dir);
    expect(comparable(d.recovered)).toEqual(expected(9n));
    await d.close();
  });

  it('a new segment whose header never reached the disk is removed', async () => {
    const dir = await written(9n);
    const stray = `${dir}/clog/00000000000000000010.log`;
    writeFileSync(stray, Buffer.alloc(5));
    const w = warnings();
    const d = openDurability(dir, { onWarning: w.onWarning });
    expect(d.recovered.offset).toBe(9n);
    expect(w.messages.join()).toMatch(/cut short/);
    d.append(workloadTx(10n));
    await d.close();
    expect(existsSync(stray)).toBe(true); // recreated for offset 10, now with a real header
    const again = openDurability(dir);
    expect(comparable(again.recovered)).toEqual(expected(10n));
    await again.close();
  });

  it('a record that passes its checksum but is not a transaction is an error, not a tail to drop', async () => {
    const dir = await written(4n);
    const [segment] = segmentPaths(dir) as [string];
    const payload = Buffer.from('valid checksum, nonsense inside');
    const head = Buffer.alloc(8);
    head.writeUInt32LE(payload.length, 0);
    head.writeUInt32LE(crc32(payload, crc32(head.subarray(0, 4))), 4);
    appendFileSync(segment, Buffer.concat([head, payload]));
    const error = openError(dir);
    expect(isDurabilityError(error, 'corrupt')).toBe(true);
  });
  it('a log tail lost behind a snapshot (fsync never, power cut) resumes after the snapshot', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { fsync: 'never' });
    appendWorkload(d, 0n, 29n);
    await d.snapshot(new SetModel().advanceTo(29n).image());
    await d.close();
    const [segment] = segmentPaths(dir) as [string];
    truncateSync(segment, statSync(segment).size - 300);

    const again = openDurability(dir);
    expect(comparable(again.recovered)).toEqual(expected(29n));
    appendWorkload(again, 30n, 35n);
    await again.close();
    expect(files(`${dir}/clog`)).toEqual(['00000000000000000000.log', '00000000000000000030.log']);
    const third = openDurability(dir);
    expect(comparable(third.recovered)).toEqual(expected(35n));
    await third.close();
  });
});

describe('damage before the tail', () => {
  it('a damaged older segment the snapshots do not cover is a log gap, never silent loss', async () => {
    const dir = await written(199n, { segmentBytes: 4096 });
    const [first] = segmentPaths(dir) as [string];
    flipByte(first, statSync(first).size - 100);
    const error = openError(dir);
    expect(isDurabilityError(error, 'log-gap')).toBe(true);
    expect(String(error)).toMatch(/missing/);
    expect(String(error)).toMatch(/damaged/);
  });

  it('a missing segment in the middle is a log gap naming the missing offsets', async () => {
    const dir = await written(199n, { segmentBytes: 4096 });
    const firsts = files(`${dir}/clog`).map((n) => BigInt(n.slice(0, 20)));
    unlinkSync(segmentPaths(dir)[2] as string);
    const error = openError(dir);
    expect(isDurabilityError(error, 'log-gap')).toBe(true);
    expect(String(error)).toContain(`transactions ${firsts[2]}..${(firsts[3] as bigint) - 1n} are missing`);
  });

  it('damage in a segment that a snapshot already covers only warns', async () => {
    const dir = tempDataDir();
    const opts = { segmentBytes: 4096, snapshotEveryTxs: 150 };
    const d = openDurability(dir, opts);
    const model = new SetModel();
    for (let o = 0n; o <= 199n; o++) {
      d.append(workloadTx(o));
      model.apply(workloadTx(o));
      if (d.shouldSnapshot()) await d.snapshot(model.image());
    }
    await d.close();
    const [first] = segmentPaths(dir) as [string];
    flipByte(first, statSync(first).size - 100);
    const w = warnings();
    const again = openDurability(dir, { ...opts, onWarning: w.onWarning });
    expect(comparable(again.recovered)).toEqual(comparable(model.image()));
    expect(w.messages.join()).toMatch(/damaged/);
    await again.close();
  });
});

describe('snapshot fallback', () => {
  async function twoSnapshots(): Promise<string> {
    const dir = tempDataDir();
    const d = openDurability(dir, { snapshotEveryTxs: 50, segmentBytes: 4096 });
    const model = new SetModel();
    for (let o = 0n; o <= 129n; o++) {
      d.append(workloadTx(o));
      model.apply(workloadTx(o));
      if (d.shouldSnapshot()) await d.snapshot(model.image());
    }
    await d.close();
    expect(files(`${dir}/snapshots`)).toEqual(['00000000000000000049.snap', '00000000000000000099.snap']);
    return dir;
  }

  it('a damaged newest snapshot falls back to the older one plus the longer log suffix', async () => {
    const dir = await twoSnapshots();
    flipByte(`${dir}/snapshots/00000000000000000099.snap`, 40);
    const w = warnings();
    const d = openDurability(dir, { onWarning: w.onWarning });
    expect(comparable(d.recovered)).toEqual(expected(129n));
    expect(w.messages.join()).toMatch(/00000000000000000099\.snap is damaged/);
    await d.close();
    // Set aside for a person to look at, not retried on every start.
    expect(files(`${dir}/snapshots`)).toEqual([
      '00000000000000000049.snap',
      '00000000000000000099.snap.corrupt',
    ]);
  });

  it('when no usable snapshot and no complete log remain, opening fails instead of inventing state', async () => {
    const dir = await twoSnapshots();
    // A third snapshot makes the segments before offset 99 go; then both remaining snapshots break.
    const d = openDurability(dir, { snapshotEveryTxs: 50, segmentBytes: 4096 });
    const model = new SetModel().advanceTo(129n);
    for (let o = 130n; o <= 160n; o++) {
      d.append(workloadTx(o));
      model.apply(workloadTx(o));
    }
    await d.snapshot(model.image());
    await d.close();
    expect(files(`${dir}/snapshots`)).toEqual(['00000000000000000099.snap', '00000000000000000160.snap']);
    expect(files(`${dir}/clog`)[0]).not.toBe('00000000000000000000.log');
    flipByte(`${dir}/snapshots/00000000000000000099.snap`, 40);
    flipByte(`${dir}/snapshots/00000000000000000160.snap`, 40);
    const error = openError(dir);
    expect(isDurabilityError(error, 'log-gap')).toBe(true);
    expect(String(error)).toMatch(/snapshot .* is damaged/);
  });

  it('a snapshot written by another schema is refused even if meta.json was replaced', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { schemaHash: 'one', snapshotEveryTxs: 5 });
    appendWorkload(d, 0n, 4n);
    await d.snapshot(new SetModel().advanceTo(4n).image());
    await d.close();
    unlinkSync(`${dir}/meta.json`);
    expect(isDurabilityError(openError(dir, { schemaHash: 'two' }), 'schema-mismatch')).toBe(true);
    // The refused open left no trace: the right module still opens it.
    const right = openDurability(dir, { schemaHash: 'one' });
    expect(right.recovered.offset).toBe(4n);
    await right.close();
  });
});
