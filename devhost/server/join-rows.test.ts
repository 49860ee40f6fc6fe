/**
 * A join's changes computed from one transaction's deltas equal the difference between recomputing the
 * whole result before and after it, for any tables and any transaction (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HostedDatabase, TableDelta, TableSchema } from '../contract.js';
import { joinDelta, joinRows } from './join-rows.js';
import type { SubscriptionQuery } from './sql-port.js';

// Rows are [key, flag]: the join column is byte 0; each side's own filter reads the flag.
const PLAYER = { tableId: 1, name: 'player', isEvent: false } as TableSchema;
const PERSON = { tableId: 2, name: 'person', isEvent: false } as TableSchema;
const query: SubscriptionQuery = {
  sql: 'SELECT player.* FROM person JOIN player ON …',
  table: PLAYER,
  matches: (row) => (row[1] as number) % 2 === 1,
  semijoin: {
    lookup: PERSON,
    lookupMatches: (row) => (row[1] as number) % 3 !== 0,
    keyOf: (row) => String(row[0]),
    lookupKeyOf: (row) => String(row[0]),
  },
};
const allVisible = () => true;
const hidden = (tableId: number, row: Uint8Array) => !(tableId === PERSON.tableId && row[1] === 4);

const row = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 7 }));
const rows = fc.uniqueArray(row, { selector: ([k, f]) => `${k}/${f}` });
const str = (r: Uint8Array) => `${r[0]}/${r[1]}`;
const toRows = (list: [number, number][]) => list.map(([k, f]) => new Uint8Array([k, f]));

function database(tables: Map<number, Uint8Array[]>): HostedDatabase {
  return { scanTable: (id: number) => tables.get(id) ?? [] } as unknown as HostedDatabase;
}

/** A table before the transaction and after it (some rows deleted, some inserted). */
function transition(before: [number, number][], removeMask: boolean[], added: [number, number][]) {
  const kept = before.filter((_, i) => !removeMask[i]);
  const deleted = before.filter((_, i) => removeMask[i]);
  const have = new Set(before.map(([k, f]) => `${k}/${f}`));
  const inserted = added.filter(([k, f]) => !have.has(`${k}/${f}`));
  return {
    before: toRows(before),
    after: toRows([...kept, ...inserted]),
    inserts: toRows(inserted),
    deletes: toRows(deleted),
  };
}

const side = fc
  .tuple(rows, fc.array(fc.boolean(), { maxLength: 12 }), rows)
  .map(([before, mask, added]) => transition(before, mask, added));

describe('join rows', () => {
  it.each([
    ['every row visible', allVisible],
    ['some lookup rows hidden by row-level security', hidden],
  ])('delta = result after − result before (%s)', (_what, visible) => {
    fc.assert(
      fc.property(side, side, (players, persons) => {
        const passes = (r: Uint8Array) => query.matches(r) && visible(PLAYER.tableId, r);
        const resultOf = (p: Uint8Array[], q: Uint8Array[]) =>
          new Set(joinRows(query, database(new Map([[PERSON.tableId, q]])), p, passes, visible).map(str));
        const before = resultOf(players.before, persons.before);
        const after = resultOf(players.after, persons.after);
        const deltas = new Map<number, TableDelta>([
          [
            PLAYER.tableId,
            { tableId: 1, table: 'player', inserts: players.inserts, deletes: players.deletes },
          ],
          [
            PERSON.tableId,
            { tableId: 2, table: 'person', inserts: persons.inserts, deletes: persons.deletes },
          ],
        ]);
        const db = database(
          new Map([
            [PLAYER.tableId, players.after],
            [PERSON.tableId, persons.after],
          ]),
        );
        const { inserts, deletes } = joinDelta(query, db, deltas, passes, visible);
        expect(new Set(inserts.map(str))).toEqual(new Set([...after].filter((r) => !before.has(r))));
        expect(new Set(deletes.map(str))).toEqual(new Set([...before].filter((r) => !after.has(r))));
        expect(inserts.length + deletes.length).toBe(new Set([...inserts, ...deletes].map(str)).size);
      }),
      { numRuns: 300 },
    );
  });
});
