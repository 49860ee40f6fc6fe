import { describe, expect, it } from 'vitest';
import { journalLine, parseJournal } from './collect.js';
import type { ClientEntry } from './history.js';

const entries: ClientEntry[] = [
  { type: 'applied', streamId: 's', epoch: 1n, seq: 1n, key: 'k1', payloadHash: 'ab' },
  { type: 'rebootstrap', streamId: 's', epoch: 2n, watermark: 4n },
];

describe('client journal', () => {
  it('round-trips entries', () => {
    expect(parseJournal(entries.map(journalLine).join(''))).toEqual(entries);
  });

  it('drops a last line torn by a kill (never applied), but refuses damage before it', () => {
    const text = entries.map(journalLine).join('');
    expect(parseJournal(`${text}{"t":"a","s":"s","e":"1`)).toEqual(entries);
    expect(() => parseJournal(`{"t":"a"\n${text}`)).toThrow(/line 1 is damaged/);
  });
});
