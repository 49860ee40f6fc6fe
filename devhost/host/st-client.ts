/**
 * Connected clients, as the real host's `st_client` system table: written in the connect transaction,
 * deleted in the disconnect one, so a crash leaves rows whose disconnect runs on the next start.
 * Rows are (identity: u256, connection_id: u128), little-endian BSATN like every other row.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { Caller, TableSchema } from '../contract.js';
import { readLe, writeLe } from './le-bytes.js';

export const ST_CLIENT_ID = 12;

const ST_CLIENT_ROW: AlgebraicTypeType = {
  tag: 'Product',
  value: {
    elements: [
      { name: 'identity', algebraicType: { tag: 'U256' } },
      { name: 'connection_id', algebraicType: { tag: 'U128' } },
    ],
  },
};

export const ST_CLIENT: TableSchema = {
  tableId: ST_CLIENT_ID,
  name: 'st_client',
  sourceName: 'st_client',
  isPublic: false,
  isEvent: false,
  rowType: ST_CLIENT_ROW,
  columns: [
    { colId: 0, name: 'identity', sourceName: 'identity', type: { tag: 'U256' } },
    { colId: 1, name: 'connection_id', sourceName: 'connection_id', type: { tag: 'U128' } },
  ],
  primaryKey: [],
  indexes: [],
  sequenceColumns: [],
};

/** The (identity, connection_id) pair is unique: one row per live connection. */
export const ST_CLIENT_UNIQUE: number[][] = [[0, 1]];

export function stClientRow(caller: Caller): Uint8Array {
  const row = new Uint8Array(48);
  row.set(writeLe(caller.identity, 32), 0);
  row.set(writeLe(caller.connectionId, 16), 32);
  return row;
}

export function callerOfStClientRow(row: Uint8Array): Caller {
  return { identity: readLe(row, 0, 32), connectionId: readLe(row, 32, 16) };
}

/** BSATN `Array<Row>` of one row, the shape `datastore_delete_all_by_eq_bsatn` takes. */
export function oneRowArray(row: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + row.length);
  out[0] = 1;
  out.set(row, 4);
  return out;
}
