import { AlgebraicType, type AlgebraicTypeType } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../contract.js';
import { SEQUENCE_ALLOCATION_STEP, type Sequence, Sequences } from './sequences.js';

/** A table `(id: I8 auto_inc, n: U32)`: rows are 5 bytes, the id is byte 0. */
function schema(): TableSchema {
  const col = (colId: number, name: string, type: AlgebraicTypeType) => ({
    colId,
    name,
    sourceName: name,
    type,
  });
  return {
    tableId: 7,
    name: 'counter',
    sourceName: 'counter',
    isPublic: true,
    isEvent: false,
    rowType: AlgebraicType.Product({ elements: [] }),
    columns: [col(0, 'id', AlgebraicType.I8), col(1, 'n', AlgebraicType.U32)],
    primaryKey: [0],
    indexes: [],
    sequenceColumns: [0],
  } as unknown as TableSchema;
}

const BOUNDS = [0, 1, 5];
const row = (id: number) => Uint8Array.of(id, 9, 0, 0, 0);

describe('sequences', () => {
  it('fills a zero column with the next value, leaves a given value alone, and never repeats a value', () => {
    const seqs = new Sequences();
    seqs.addTable(schema());
    const moved = new Set<Sequence>();
    const first = seqs.fill(schema(), row(0), BOUNDS, moved);
    expect([...first.row]).toEqual([1, 9, 0, 0, 0]);
    expect([...first.generated]).toEqual([1]);
    const given = seqs.fill(schema(), row(42), BOUNDS, moved);
    expect(given.generated.length).toBe(0);
    expect(given.row[0]).toBe(42);
    // What a rolled-back transaction took is not handed out again: the sequence only moves forward.
    expect(seqs.fill(schema(), row(0), BOUNDS, new Set()).row[0]).toBe(2);
  });

  it('reports an allocation step to persist only when it moves, and resumes past it after a restart', () => {
    const seqs = new Sequences();
    seqs.addTable(schema());
    const moved = new Set<Sequence>();
    seqs.fill(schema(), row(0), BOUNDS, moved);
    expect(seqs.states()).toEqual([{ tableId: 7, colId: 0, allocated: SEQUENCE_ALLOCATION_STEP }]);
    expect(moved.size).toBe(1);
    const later = new Set<Sequence>();
    seqs.fill(schema(), row(0), BOUNDS, later);
    expect(later.size).toBe(0);

    const restarted = new Sequences();
    restarted.addTable(schema());
    restarted.restore({ tableId: 7, colId: 0, allocated: 100n });
    expect(restarted.fill(schema(), row(0), BOUNDS, new Set()).row[0]).toBe(101);
  });

  it('refuses to overflow a signed column instead of wrapping around', () => {
    const seqs = new Sequences();
    seqs.addTable(schema());
    seqs.restore({ tableId: 7, colId: 0, allocated: 126n });
    expect(seqs.fill(schema(), row(0), BOUNDS, new Set()).row[0]).toBe(127);
    expect(() => seqs.fill(schema(), row(0), BOUNDS, new Set())).toThrow(/counter column 0/);
  });

  it('refuses a sequence on a column that is no integer', () => {
    const bad = {
      ...schema(),
      columns: [{ colId: 0, name: 'id', sourceName: 'id', type: AlgebraicType.Bool }],
    };
    expect(() => new Sequences().addTable(bad as unknown as TableSchema)).toThrow(/non-integer column 0/);
  });
});
