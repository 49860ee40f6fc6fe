/**
 * One topic's retained rows in memory. Watermarks are gapless from 1 and only the oldest rows are ever
 * removed (retention), so the retained rows are contiguous and a read is index arithmetic.
 */
import type { RowRecord } from './record-codec.js';

export class TopicLog {
  private rows: RowRecord[] = [];
  /** The last watermark ever assigned (pruned or not): the next row gets this + 1. */
  lastAssigned = 0;

  /** Oldest retained watermark, undefined when nothing is retained. */
  oldest(): number | undefined {
    return this.rows[0]?.watermark;
  }

  /** Largest retained watermark, 0 when nothing is retained (the original's `max(watermark)`). */
  head(): number {
    return this.rows[this.rows.length - 1]?.watermark ?? 0;
  }

  get size(): number {
    return this.rows.length;
  }

  /** Appends the next row; the caller guarantees `row.watermark === lastAssigned + 1`. */
  push(row: RowRecord): void {
    this.rows.push(row);
    this.lastAssigned = row.watermark;
  }

  /** Up to `limit` rows with watermark > `after`, ascending. */
  read(after: number, limit: number): RowRecord[] {
    const first = this.rows[0];
    if (!first) return [];
    const start = Math.max(after - first.watermark + 1, 0);
    return this.rows.slice(start, start + limit);
  }

  /** Drops retained rows with watermark ≤ `through`; returns how many. */
  prune(through: number): number {
    const first = this.rows[0];
    if (!first || through < first.watermark) return 0;
    const n = Math.min(through - first.watermark + 1, this.rows.length);
    this.rows.splice(0, n);
    return n;
  }

  /** The watermark of the newest retained row inserted before `cutoffMs`, if any. */
  expiredThrough(cutoffMs: number): number | undefined {
    let through: number | undefined;
    for (const row of this.rows) {
      if (row.inserted_at_ms >= cutoffMs) break;
      through = row.watermark;
    }
    return through;
  }
}
