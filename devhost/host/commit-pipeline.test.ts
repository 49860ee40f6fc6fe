/** The commit pipeline on a real datastore (the reference module's tables) and memory durability. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CommittedTx } from '../contract.js';
import { memoryDurability } from '../durability/index.js';
import type { HostModuleSchema } from '../schema/index.js';
import { encodeRow, loadSchema, TEST_MODULE, tableOf } from '../sql/testing/schema.js';
import { Datastore, type TableChanges } from '../store/datastore.js';
import { CommitPipeline } from './commit-pipeline.js';
import { ST_CLIENT, ST_CLIENT_ID, ST_CLIENT_UNIQUE, stClientRow } from './st-client.js';

let schema: HostModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

function setup(hooks: { onChanges?: (c: TableChanges[], t: bigint) => void; afterCommit?: () => void } = {}) {
  const store = new Datastore(schema.typespace);
  for (const t of schema.tables) store.addTable(t, schema.uniqueConstraints.get(t.tableId) ?? []);
  store.addTable(ST_CLIENT, ST_CLIENT_UNIQUE);
  const durability = memoryDurability();
  const logged: string[] = [];
  const pipeline = new CommitPipeline({
    store,
    durability,
    log: (level, message) => logged.push(`${level}: ${message}`),
    ...hooks,
  });
  const seen: CommittedTx[] = [];
  pipeline.onCommit((tx) => seen.push(tx));
  const insert = (table: string, value: object) =>
    store.insert(tableOf(schema, table).tableId, encodeRow(schema, table, value));
  return { store, durability, pipeline, seen, logged, insert };
}

describe('CommitPipeline', () => {
  it('logs each transaction with rows under the next offset and hands it to listeners', () => {
    const { store, durability, pipeline, seen, insert } = setup();
    store.begin();
    insert('counter', { name: 'a', value: 1n });
    const first = pipeline.commit(
      10n,
      { identity: 7n, connectionId: 8n },
      { name: 'bump', args: new Uint8Array() },
    );
    store.begin();
    insert('counter', { name: 'b', value: 2n });
    const second = pipeline.commit(11n);
    expect([first.offset, second.offset]).toEqual([0n, 1n]);
    expect(durability.durableOffset()).toBe(1n);
    expect(seen).toEqual([first, second]);
    expect(first.caller).toEqual({ identity: 7n, connectionId: 8n });
    expect(first.reducer?.name).toBe('bump');
    expect(first.deltas.map((d) => [d.table, d.inserts.length, d.deletes.length])).toEqual([
      ['counter', 1, 0],
    ]);
    expect(second.caller).toBeUndefined();
  });

  it('does not log a transaction that only wrote an event table, yet delivers its rows', () => {
    const { store, durability, pipeline, seen, insert } = setup();
    store.begin();
    insert('counter', { name: 'a', value: 1n });
    pipeline.commit(1n);
    store.begin();
    insert('notice', { text: 'hello' });
    const tx = pipeline.commit(2n);
    expect(tx.offset).toBe(0n); // durable with what came before
    expect(durability.durableOffset()).toBe(0n);
    expect(seen.at(-1)?.deltas.map((d) => d.table)).toEqual(['notice']);
  });

  it('logs st_client changes but never shows them to listeners', () => {
    const { store, pipeline, insert } = setup();
    store.begin();
    store.insert(ST_CLIENT_ID, stClientRow({ identity: 1n, connectionId: 2n }));
    insert('counter', { name: 'a', value: 1n });
    const tx = pipeline.commit(1n);
    expect(tx.offset).toBe(0n);
    expect(tx.deltas.map((d) => d.table)).toEqual(['counter']);
  });

  it('keeps going when a listener throws (and logs it), then runs onChanges before and afterCommit after listeners', () => {
    const order: string[] = [];
    const { store, pipeline, logged, insert } = setup({
      onChanges: (changes) => order.push(`changes:${changes.map((c) => c.table.name).join(',')}`),
      afterCommit: () => order.push('after'),
    });
    pipeline.onCommit(() => {
      throw new Error('subscriber broke');
    });
    pipeline.onCommit(() => order.push('listener'));
    store.begin();
    insert('counter', { name: 'a', value: 1n });
    pipeline.commit(1n);
    expect(order).toEqual(['changes:counter', 'listener', 'after']);
    expect(logged).toEqual(['error: commit listener failed: Error: subscriber broke']);
  });

  it('images the committed state at the last logged offset', () => {
    const { store, pipeline, insert } = setup();
    store.begin();
    insert('counter', { name: 'a', value: 1n });
    pipeline.commit(1n);
    const image = pipeline.image();
    expect(image.offset).toBe(0n);
    expect(image.tables.get(tableOf(schema, 'counter').tableId)).toHaveLength(1);
  });
});
