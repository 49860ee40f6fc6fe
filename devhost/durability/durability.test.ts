import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isDurabilityError, memoryDurability, openDurability } from './index.js';
import { comparable, SetModel, workloadTx } from './testing/crash-model.js';
import { appendWorkload, files, removeTempDataDirs, tempDataDir } from './testing/fixtures.js';
import type { Durability } from './types.js';

afterEach(removeTempDataDirs);

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isDurabilityError(thrown), String(thrown)).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}

/** Appends `from..to`, taking a snapshot whenever the durability asks for one. */
async function appendWithSnapshots(d: Durability, model: SetModel, from: bigint, to: bigint): Promise<void> {
  for (let o = from; o <= to; o++) {
    const tx = workloadTx(o);
    d.append(tx);
    model.apply(tx);
    if (d.shouldSnapshot()) await d.snapshot(model.image());
  }
}

describe('openDurability', () => {
  it('starts a new directory empty, with meta.json, clog/ and snapshots/', async () => {
    const dir = tempDataDir();
    const d = openDurability(`${dir}/db`);
    expect(d.recovered).toEqual({ offset: -1n, tables: new Map(), sequences: [] });
    expect(d.durableOffset()).toBe(-1n);
    expect(d.meta).toEqual({});
    expect(files(`${dir}/db`)).toEqual(['clog', 'lock', 'meta.json', 'snapshots']);
    await d.close();
    expect(files(`${dir}/db`)).toEqual(['clog', 'meta.json', 'snapshots']);
  });

  it('gives back every appended transaction after close and reopen, and continues from there', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { fsync: 'never' });
    appendWorkload(d, 0n, 299n);
    await d.close();

    const again = openDurability(dir);
    expect(comparable(again.recovered)).toEqual(comparable(new SetModel().advanceTo(299n).image()));
    expect(again.durableOffset()).toBe(299n);
    expect(files(`${dir}/clog`)).toEqual(['00000000000000000000.log']);
    appendWorkload(again, 300n, 310n);
    await again.close();

    const third = openDurability(dir);
    expect(comparable(third.recovered)).toEqual(comparable(new SetModel().advanceTo(310n).image()));
    await third.close();
  });

  it('refuses an offset that is not the next one', async () => {
    const d = openDurability(tempDataDir());
    d.append(workloadTx(0n));
    expectCode(() => d.append(workloadTx(0n)), 'offset-out-of-order');
    expectCode(() => d.append(workloadTx(2n)), 'offset-out-of-order');
    d.append(workloadTx(1n));
    await d.close();
  });

  it('refuses a transaction it cannot encode, without consuming its offset', async () => {
    const d = openDurability(tempDataDir());
    expectCode(
      () => d.append({ offset: 0n, timestamp: 0n, callerIdentity: -1n, mutations: [] }),
      'invalid-argument',
    );
    d.append(workloadTx(0n));
    await d.close();
  });

  it('stores metadata durably and keeps it across reopen', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { schemaHash: 'h1' });
    d.setMeta({ identity: '123', owner: '456' });
    expect(d.meta).toEqual({ identity: '123', owner: '456' });
    // On disk before setMeta returned (no close needed).
    expect(JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8')).meta).toEqual({
      identity: '123',
      owner: '456',
    });
    await d.close();
    const again = openDurability(dir, { schemaHash: 'h1' });
    expect(again.meta).toEqual({ identity: '123', owner: '456' });
    await again.close();
  });

  it('refuses data written by another module schema, naming both hashes', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { schemaHash: 'aaaa' });
    appendWorkload(d, 0n, 3n);
    await d.close();
    let error: unknown;
    try {
      openDurability(dir, { schemaHash: 'bbbb' });
    } catch (e) {
      error = e;
    }
    expect(isDurabilityError(error, 'schema-mismatch')).toBe(true);
    expect(String(error)).toMatch(/aaaa.*bbbb/);
    // The refused open must not have taken the directory.
    const same = openDurability(dir, { schemaHash: 'aaaa' });
    expect(same.recovered.offset).toBe(3n);
    await same.close();
  });

  it('lets only one open handle own a directory at a time', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir);
    expectCode(() => openDurability(dir), 'locked');
    await d.close();
    const again = openDurability(dir);
    await again.close();
  });

  it('rejects use after close, and waits for offsets that were never appended', async () => {
    const d = openDurability(tempDataDir());
    d.append(workloadTx(0n));
    const never = d.waitDurable(5n);
    await d.close();
    await expect(never).rejects.toMatchObject({ code: 'closed' });
    await expect(d.waitDurable(0n)).resolves.toBeUndefined();
    expectCode(() => d.append(workloadTx(1n)), 'closed');
    expectCode(() => d.setMeta({}), 'closed');
  });
});

describe('segments and snapshots', () => {
  it('rotates segments by size, each named by the first offset it holds', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { segmentBytes: 4096, fsync: 'never' });
    appendWorkload(d, 0n, 199n);
    await d.close();
    const names = files(`${dir}/clog`);
    expect(names.length).toBeGreaterThan(5);
    expect(names[0]).toBe('00000000000000000000.log');
    const firsts = names.map((n) => BigInt(n.slice(0, 20)));
    expect(firsts).toEqual([...firsts].sort((a, b) => (a < b ? -1 : 1)));
    for (const name of names) expect(statSync(`${dir}/clog/${name}`).size).toBeLessThanOrEqual(4096);
    const again = openDurability(dir, { segmentBytes: 4096 });
    expect(comparable(again.recovered)).toEqual(comparable(new SetModel().advanceTo(199n).image()));
    await again.close();
  });

  it('asks for a snapshot every snapshotEveryTxs transactions, not while one is being written', async () => {
    const d = openDurability(tempDataDir(), { snapshotEveryTxs: 10 });
    const model = new SetModel();
    for (let o = 0n; o < 9n; o++) {
      d.append(workloadTx(o));
      model.apply(workloadTx(o));
      expect(d.shouldSnapshot()).toBe(false);
    }
    d.append(workloadTx(9n));
    model.apply(workloadTx(9n));
    expect(d.shouldSnapshot()).toBe(true);
    const writing = d.snapshot(model.image());
    expect(d.shouldSnapshot()).toBe(false);
    await writing;
    expect(d.shouldSnapshot()).toBe(false);
    await d.close();
  });

  it('refuses a snapshot ahead of the log', async () => {
    const d = openDurability(tempDataDir());
    d.append(workloadTx(0n));
    await expect(d.snapshot({ offset: 1n, tables: new Map(), sequences: [] })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await d.close();
  });

  it('recovers snapshot + log suffix and drops the segments the older kept snapshot covers', async () => {
    const dir = tempDataDir();
    const opts = { segmentBytes: 4096, snapshotEveryTxs: 100, fsync: 'always' } as const;
    const d = openDurability(dir, opts);
    const model = new SetModel();
    await appendWithSnapshots(d, model, 0n, 349n);
    await d.close();

    expect(files(`${dir}/snapshots`)).toEqual(['00000000000000000199.snap', '00000000000000000299.snap']);
    const firsts = files(`${dir}/clog`).map((n) => BigInt(n.slice(0, 20)));
    // Everything the log still needs from the older snapshot on is there; what it fully covers is gone.
    expect(firsts[0]).toBeGreaterThan(0n);
    expect(firsts[0]).toBeLessThanOrEqual(200n);
    expect(firsts[1]).toBeGreaterThan(200n);

    const again = openDurability(dir, opts);
    expect(comparable(again.recovered)).toEqual(comparable(model.image()));
    // And the next session continues on top of it.
    await appendWithSnapshots(again, model, 350n, 420n);
    await again.close();
    const third = openDurability(dir, opts);
    expect(comparable(third.recovered)).toEqual(comparable(model.image()));
    await third.close();
  });

  it('copies the image when snapshot() is called, so later mutations are not captured', async () => {
    const dir = tempDataDir();
    const d = openDurability(dir, { snapshotEveryTxs: 1 });
    d.append({
      offset: 0n,
      timestamp: 0n,
      mutations: [{ tableId: 1, inserts: [new Uint8Array([1])], deletes: [] }],
    });
    const rows = [new Uint8Array([1])];
    const writing = d.snapshot({ offset: 0n, tables: new Map([[1, rows]]), sequences: [] });
    rows.push(new Uint8Array([2]));
    (rows[0] as Uint8Array)[0] = 9;
    await writing;
    await d.close();
    const again = openDurability(dir);
    expect(again.recovered.tables.get(1)).toEqual([new Uint8Array([1])]);
    await again.close();
  });
});

describe('memoryDurability', () => {
  it('is durable at once, keeps metadata in memory, and checks offsets like the disk one', async () => {
    const d = memoryDurability();
    expect(d.recovered.offset).toBe(-1n);
    const later = d.waitDurable(1n);
    d.append(workloadTx(0n));
    expect(d.durableOffset()).toBe(0n);
    d.append(workloadTx(1n));
    await later;
    expectCode(() => d.append(workloadTx(3n)), 'offset-out-of-order');
    d.setMeta({ identity: '1' });
    expect(d.meta).toEqual({ identity: '1' });
    expect(d.shouldSnapshot()).toBe(false);
    await d.close();
    expectCode(() => d.append(workloadTx(2n)), 'closed');
  });
});
