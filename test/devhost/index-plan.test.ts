/**
 * Subscription index plans against the sync module's real indexes: reading the planned btree range
 * and filtering gives exactly the rows a full table scan gives, for any mix of conditions.
 */

import type { Devhost } from '@spacetime-sync/devhost';
import { compileQuery } from '@spacetime-sync/devhost';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, SYNC_DB, startSyncDevhost } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';

let devhost: Devhost;
beforeAll(async () => {
  devhost = await startSyncDevhost();
  const writer = await connect(devhost, devhost.ownerToken);
  // Three streams of different lengths, keys that sort differently from seqs.
  for (const [stream, n] of [
    ['a', 30],
    ['b', 7],
    ["it's", 12],
  ] as const) {
    const events = Array.from({ length: n }, (_, i) => eventInput(stream, `k${(i * 7) % n}-${i}`));
    await writer.conn.reducers.appendSyncEvents({ events, cursor: undefined });
  }
  writer.conn.disconnect();
});
afterAll(async () => {
  await devhost.stop();
});

function database() {
  const db = devhost.databases.get(SYNC_DB);
  if (!db) throw new Error('no database');
  return db;
}

const owner = () => ({ sender: devhost.ownerIdentity, isOwner: true });

function compile(sql: string) {
  const [q] = compileQuery(sql, database().schema, owner());
  if (!q) throw new Error('no fragment');
  return q;
}

const countMatching = (rows: Iterable<Uint8Array>, sql: string) => {
  const q = compile(sql);
  return [...rows].filter((r) => q.matches(r)).length;
};

describe('subscription index plans', () => {
  it('uses the (stream_id, seq) index for a stream equality with a seq range', () => {
    const q = compile("SELECT * FROM sync_event WHERE stream_id = 'a' AND seq > 10 AND seq <= 20");
    const index = database()
      .schema.tableByName('sync_event')
      ?.indexes.find((i) => i.indexId === q.indexScan?.indexId);
    expect(index?.sourceName ?? index?.name).toMatch(/stream_seq|stream_id_seq/);
    const read = [...database().scanIndexRange(q.indexScan as NonNullable<typeof q.indexScan>)];
    // The range holds exactly the ten rows, not the stream or the table: no need to filter them again.
    expect(read).toHaveLength(10);
    expect(q.indexScan?.exact).toBe(true);
  });

  it('calls a plan exact only when the range alone decides: not with an unplanned condition or a string range', () => {
    for (const sql of [
      "SELECT * FROM sync_event WHERE stream_id = 'a' AND seq > 10 AND kind = 'test.v1'",
      "SELECT * FROM sync_event WHERE stream_id = 'a' AND seq > 10 AND seq > 12",
      "SELECT * FROM sync_event WHERE stream_id > 'a'",
    ])
      expect(compile(sql).indexScan?.exact, sql).toBeUndefined();
    expect(compile("SELECT * FROM sync_event WHERE stream_id = 'a'").indexScan?.exact).toBe(true);
  });

  it('leaves disjunctions, inequalities and unindexed columns to a table scan', () => {
    for (const sql of [
      "SELECT * FROM sync_event WHERE stream_id = 'a' OR seq > 3",
      "SELECT * FROM sync_event WHERE stream_id <> 'a'",
      "SELECT * FROM sync_event WHERE kind = 'test.v1'",
      'SELECT * FROM sync_event',
    ])
      expect(compile(sql).indexScan, sql).toBeUndefined();
  });

  it('reads the same rows through the plan as through the table, for any conjunction', () => {
    const stream = fc.constantFrom('a', 'b', "it's", 'zzz', '');
    const quoted = (s: string) => `'${s.replaceAll("'", "''")}'`;
    const seqCond = fc.record({
      op: fc.constantFrom('=', '<', '<=', '>', '>=', '<>'),
      value: fc.integer({ min: 0, max: 35 }),
      flipped: fc.boolean(),
    });
    const query = fc.record({
      stream: fc.option(stream, { nil: undefined }),
      seqs: fc.array(seqCond, { maxLength: 3 }),
      keyEq: fc.option(fc.constantFrom('k0-0', 'k3-1', 'nope'), { nil: undefined }),
    });
    fc.assert(
      fc.property(query, ({ stream: s, seqs, keyEq }) => {
        const conds = [
          ...(s !== undefined ? [`stream_id = ${quoted(s)}`] : []),
          ...seqs.map((c) => (c.flipped ? `${c.value} ${c.op} seq` : `seq ${c.op} ${c.value}`)),
          ...(keyEq !== undefined ? [`idempotency_key = ${quoted(keyEq)}`] : []),
        ];
        if (conds.length === 0) return;
        const sql = `SELECT * FROM sync_event WHERE ${conds.join(' AND ')}`;
        const q = compile(sql);
        const db = database();
        const table = db.schema.tableByName('sync_event')?.tableId as number;
        const viaTable = countMatching(db.scanTable(table), sql);
        const viaPlan = q.indexScan ? countMatching(db.scanIndexRange(q.indexScan), sql) : viaTable;
        expect(viaPlan, sql).toBe(viaTable);
        // A plan that calls itself exact reads no row the filter would refuse.
        if (q.indexScan?.exact) expect([...db.scanIndexRange(q.indexScan)].length, sql).toBe(viaTable);
      }),
      { numRuns: 400 },
    );
  });
});
