/**
 * `BsatnRowList` exactly as SpacetimeDB's `BsatnRowListBuilder` (`subscription/websocket_building.rs`)
 * builds it: `FixedSize(n)` when every row is the same non-zero size that fits a u16, otherwise the
 * start offset of each row; an empty list is `RowOffsets([])`. The TS SDK decodes rows sequentially,
 * but the Rust SDK splits rows by this hint, so it must be right.
 */
import type { BsatnRowList } from '../stdb-internal/client-api.js';

export function bsatnRowList(rows: readonly Uint8Array[]): BsatnRowList {
  let total = 0;
  for (const row of rows) total += row.length;
  const rowsData = new Uint8Array(total);
  const offsets: bigint[] = [];
  let at = 0;
  for (const row of rows) {
    offsets.push(BigInt(at));
    rowsData.set(row, at);
    at += row.length;
  }
  const first = rows[0]?.length ?? 0;
  const fixed = first > 0 && first <= 0xffff && rows.every((r) => r.length === first);
  return {
    sizeHint: fixed ? { tag: 'FixedSize', value: first } : { tag: 'RowOffsets', value: offsets },
    rowsData,
  };
}
