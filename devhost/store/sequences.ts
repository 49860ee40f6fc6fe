/**
 * Auto-increment sequences as SpacetimeDB keeps them (host spec §2.5): an inserted row whose sequence
 * column holds numeric zero gets the column's next value. Values are never handed out twice, not even
 * across a rollback, and allocations are persisted in steps so that a restart resumes past every value
 * that may have been handed out.
 */
import type { AlgebraicTypeType } from 'spacetimedb';
import type { TableSchema } from '../contract.js';
import { fixedSizeOf } from './bsatn-layout.js';
import { Errno, HostError } from './errno.js';

/** SpacetimeDB persists sequence allocations in steps of 4096 (`SEQUENCE_ALLOCATION_STEP`). */
export const SEQUENCE_ALLOCATION_STEP = 4096n;

/** What is persisted of a sequence: how far it has allocated. */
export interface SequenceState {
  readonly tableId: number;
  readonly colId: number;
  readonly allocated: bigint;
}

export interface Sequence {
  readonly tableId: number;
  readonly colId: number;
  readonly size: number;
  readonly signed: boolean;
  next: bigint;
  allocated: bigint;
}

export class Sequences {
  private readonly byTable = new Map<number, Sequence[]>();

  addTable(schema: TableSchema): void {
    const seqs = schema.sequenceColumns.map((colId) => {
      const ty = schema.columns[colId]?.type as AlgebraicTypeType;
      const size = fixedSizeOf(ty);
      if (size === undefined || ty.tag === 'Bool' || ty.tag.startsWith('F'))
        throw new Error(`${schema.name}: sequence on non-integer column ${colId}`);
      return {
        tableId: schema.tableId,
        colId,
        size,
        signed: ty.tag.startsWith('I'),
        next: 1n,
        allocated: 0n,
      };
    });
    this.byTable.set(schema.tableId, seqs);
  }

  /** Resumes a sequence after its persisted allocation, as SpacetimeDB does after a restart. */
  restore(state: SequenceState): void {
    const seq = this.byTable.get(state.tableId)?.find((s) => s.colId === state.colId);
    if (!seq) return;
    seq.allocated = state.allocated;
    seq.next = state.allocated + 1n;
  }

  states(): SequenceState[] {
    return [...this.byTable.values()].flat().map(stateOf);
  }

  /**
   * Fills the sequence columns of `row` (laid out by `bounds`) that hold numeric zero; returns the new
   * row and the generated columns' BSATN. Sequences whose allocation moved are added to `moved`, for
   * the transaction to persist. Generated values are fixed-width ints written in place, so the
   * column layout stays the same.
   */
  fill(
    schema: TableSchema,
    row: Uint8Array,
    bounds: readonly number[],
    moved: Set<Sequence>,
  ): { row: Uint8Array; generated: Uint8Array } {
    const seqs = this.byTable.get(schema.tableId);
    if (seqs === undefined || seqs.length === 0) return { row, generated: NONE };
    const parts: Uint8Array[] = [];
    let out = row;
    for (const seq of seqs) {
      const start = bounds[seq.colId] as number;
      const end = bounds[seq.colId + 1] as number;
      if (!isZero(out, start, end)) continue;
      const value = seq.next;
      const max = seq.signed ? (1n << BigInt(seq.size * 8 - 1)) - 1n : (1n << BigInt(seq.size * 8)) - 1n;
      if (value > max) throw new HostError(Errno.AUTO_INC_OVERFLOW, `${schema.name} column ${seq.colId}`);
      seq.next = value + 1n;
      if (value > seq.allocated) {
        seq.allocated = value - 1n + SEQUENCE_ALLOCATION_STEP;
        moved.add(seq);
      }
      const encoded = encodeInt(value, seq.size);
      if (out === row) out = row.slice();
      out.set(encoded, start);
      parts.push(encoded);
    }
    return { row: out, generated: parts.length === 1 ? (parts[0] as Uint8Array) : concatAll(parts) };
  }
}

export function stateOf(seq: Sequence): SequenceState {
  return { tableId: seq.tableId, colId: seq.colId, allocated: seq.allocated };
}

const NONE = new Uint8Array(0);

function encodeInt(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (size === 8) {
    // Two 32-bit halves: no BigInt per byte, and no DataView (which would move the array off-heap).
    const v = BigInt.asUintN(64, value);
    const lo = Number(v & 0xffffffffn);
    const hi = Number(v >> 32n);
    for (let i = 0; i < 4; i++) {
      out[i] = (lo >>> (8 * i)) & 0xff;
      out[4 + i] = (hi >>> (8 * i)) & 0xff;
    }
    return out;
  }
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
