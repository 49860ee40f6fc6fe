/**
 * The rows of a join subscription (`SemijoinQuery`): initially, and as a transaction changes either
 * table. devhost recomputes what the transaction changed instead of running SpacetimeDB's delta-join
 * fragments (host spec §4.5 allows it): it counts, per join key, the lookup rows that pass before and
 * after the transaction, and a row of the query's table is in the result while its key has any.
 * Each row is in the result once (set semantics); SpacetimeDB's index join may send a row once per
 * matching lookup row, and the SDK's row counting shows the same table either way.
 */
import type { HostedDatabase, TableDelta } from '../contract.js';
import type { SubscriptionQuery } from './sql-port.js';

type Semijoin = NonNullable<SubscriptionQuery['semijoin']>;
type RowTest = (tableId: number, row: Uint8Array) => boolean;

/** Per join key: how many lookup rows that pass (and the client may see) hold it. */
function lookupKeyCounts(join: Semijoin, rows: Iterable<Uint8Array>, visible: RowTest): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    if (!join.lookupMatches(row) || !visible(join.lookup.tableId, row)) continue;
    const key = join.lookupKeyOf(row);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The rows in the result now, read from `candidates` (the table or a planned index range). */
export function joinRows(
  query: SubscriptionQuery,
  db: HostedDatabase,
  candidates: Iterable<Uint8Array>,
  passes: (row: Uint8Array) => boolean,
  visible: RowTest,
): Uint8Array[] {
  const join = query.semijoin as Semijoin;
  const keys = lookupKeyCounts(join, db.scanTable(join.lookup.tableId), visible);
  return [...candidates].filter((r) => passes(r) && keys.has(join.keyOf(r)));
}

/** What a committed transaction changed in the result: rows that entered it and rows that left it. */
export function joinDelta(
  query: SubscriptionQuery,
  db: HostedDatabase,
  deltas: ReadonlyMap<number, TableDelta>,
  passes: (row: Uint8Array) => boolean,
  visible: RowTest,
): { inserts: Uint8Array[]; deletes: Uint8Array[] } {
  const join = query.semijoin as Semijoin;
  const own = deltas.get(query.table.tableId);
  const lookupDelta = deltas.get(join.lookup.tableId);
  const after = lookupKeyCounts(join, db.scanTable(join.lookup.tableId), visible);
  const before = new Map(after);
  const shift = (row: Uint8Array, by: number) => {
    if (!join.lookupMatches(row) || !visible(join.lookup.tableId, row)) return;
    const key = join.lookupKeyOf(row);
    const n = (before.get(key) ?? 0) + by;
    if (n > 0) before.set(key, n);
    else before.delete(key);
  };
  for (const row of lookupDelta?.inserts ?? []) shift(row, -1);
  for (const row of lookupDelta?.deletes ?? []) shift(row, +1);

  const inserts = (own?.inserts ?? []).filter((r) => passes(r) && after.has(join.keyOf(r)));
  const deletes = (own?.deletes ?? []).filter((r) => passes(r) && before.has(join.keyOf(r)));
  // Rows the transaction left alone enter or leave the result when their key gained or lost its last
  // passing lookup row.
  const flipped = new Set([...after.keys(), ...before.keys()].filter((k) => after.has(k) !== before.has(k)));
  if (flipped.size > 0) {
    const touched = new Set([...(own?.inserts ?? []), ...(own?.deletes ?? [])].map(rowKey));
    for (const row of db.scanTable(query.table.tableId)) {
      const key = join.keyOf(row);
      if (!flipped.has(key) || touched.has(rowKey(row)) || !passes(row)) continue;
      (after.has(key) ? inserts : deletes).push(row);
    }
  }
  return { inserts, deletes };
}

const rowKey = (row: Uint8Array) => Buffer.from(row.buffer, row.byteOffset, row.length).toString('latin1');
