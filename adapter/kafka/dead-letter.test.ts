import { describe, expect, it } from 'vitest';
import { SyncError } from '../../shared/errors/sync-error.js';
import { DEAD_LETTER_HEADERS, deadLetterRecord } from './dead-letter.js';

describe('dead-letter records', () => {
  it('keep the exact key and bytes and carry reason, detail and source coordinates as headers', () => {
    const value = Buffer.from([0, 255, 1]);
    const record = deadLetterRecord(
      { key: Buffer.from('orders:1'), value, offset: '42' },
      { topic: 'authority', partition: 3 },
      new SyncError('source_regression', `stream 'orders:1' ${'x'.repeat(2000)}`),
    );
    expect(record.key?.toString()).toBe('orders:1');
    expect(record.value).toBe(value);
    const h = record.headers ?? {};
    expect([
      h[DEAD_LETTER_HEADERS.reason],
      h[DEAD_LETTER_HEADERS.topic],
      h[DEAD_LETTER_HEADERS.partition],
      h[DEAD_LETTER_HEADERS.offset],
    ]).toEqual(['source_regression', 'authority', '3', '42']);
    expect(String(h[DEAD_LETTER_HEADERS.detail])).toHaveLength(1000);
  });
});
