import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { legacyPayloadHash } from '../protocol/canonical-json.js';
import { type JournalEntry, LegacyJournal } from './journal.js';
import { JournalCorruptError } from './journal-file.js';
import { JournalLockedError } from './lock.js';

const entry = (topic: string, n: number, payload: Record<string, unknown> = { n }): JournalEntry => ({
  topic,
  docKey: `doc:${n}`,
  docVersion: n,
  payload: payload as JournalEntry['payload'],
  streamId: `s:${topic}`,
  idempotencyKey: `k${n}`,
});

async function fresh(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'legacy-journal-'));
}

describe('legacy lane journal', () => {
  it('assigns per-topic watermarks gapless from 1 and stores the canonical hash', async () => {
    const j = await LegacyJournal.open(await fresh());
    const out = await j.append([entry('a', 1), entry('b', 1), entry('a', 2), entry('a', 3)]);
    expect(out.map((o) => `${o.topic}:${o.watermark}`)).toEqual(['a:1', 'b:1', 'a:2', 'a:3']);
    expect(j.head('a')).toBe(3);
    expect(j.read('a', 1, 10).map((r) => r.watermark)).toEqual([2, 3]);
    expect(j.read('a', 0, 1)[0]?.payload_hash).toBe(legacyPayloadHash({ n: 1 }));
    await j.close();
  });

  it('a redelivered event keeps its first watermark; the same key with another payload is a conflict', async () => {
    const j = await LegacyJournal.open(await fresh());
    await j.append([entry('a', 1)]);
    const out = await j.append([
      entry('a', 1),
      entry('a', 1, { n: 'changed' }),
      entry('a', 2),
      entry('a', 2),
    ]);
    expect(out.map((o) => `${o.status}:${o.watermark}`)).toEqual([
      'duplicate:1',
      'conflict:1',
      'appended:2',
      'duplicate:2',
    ]);
    expect(j.head('a')).toBe(2);
    await j.close();
  });

  it('survives a restart: rows, heads, prunes and the idempotency index come back', async () => {
    const dir = await fresh();
    const j = await LegacyJournal.open(dir);
    await j.append([1, 2, 3, 4, 5].map((n) => entry('a', n)));
    expect(await j.prune('a', 3)).toBe(3);
    await j.close();
    const again = await LegacyJournal.open(dir);
    expect(again.oldest('a')).toBe(4);
    expect(again.head('a')).toBe(5);
    expect(
      (await again.append([entry('a', 2), entry('a', 6)])).map((o) => `${o.status}:${o.watermark}`),
    ).toEqual(['duplicate:2', 'appended:6']);
    await again.close();
  });

  it('retention prunes rows older than the topic keeps them, and a fully pruned topic keeps counting', async () => {
    const j = await LegacyJournal.open(await fresh());
    await j.append([entry('a', 1), entry('a', 2)]);
    expect(await j.pruneExpired(() => 60, Date.now() + 61_000)).toBe(2);
    expect(j.oldest('a')).toBeUndefined();
    expect(j.head('a')).toBe(0); // §7: head is the max *stored* watermark
    expect((await j.append([entry('a', 3)]))[0]?.watermark).toBe(3);
    await j.close();
  });

  it('refuses to start on a flipped byte and names the byte offset, leaving the file untouched', async () => {
    const dir = await fresh();
    const j = await LegacyJournal.open(dir);
    await j.append([entry('a', 1), entry('a', 2)]);
    await j.close();
    const file = join(dir, 'journal.log');
    const bytes = await readFile(file);
    const second = bytes.indexOf(0x0a) + 1;
    bytes[second + 20] = bytes[second + 20]! ^ 0x01;
    await writeFile(file, bytes);
    const err = await LegacyJournal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err).toMatchObject({ byteOffset: second, line: 2 });
    expect((err as Error).message).toContain(`truncate -s ${second}`);
    expect((await stat(file)).size).toBe(bytes.length);
  });

  it('refuses a torn last record and a gap in watermarks', async () => {
    const dir = await fresh();
    const j = await LegacyJournal.open(dir);
    await j.append([entry('a', 1), entry('a', 2)]);
    await j.close();
    const file = join(dir, 'journal.log');
    const size = (await stat(file)).size;
    await truncate(file, size - 5);
    await expect(LegacyJournal.open(dir)).rejects.toThrow(/torn write/);
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, `${lines[0]}\n`.repeat(2));
    await expect(LegacyJournal.open(dir)).rejects.toThrow(/not gapless/);
  });

  it('one process per journal: a second open is refused while the first holds it; the lock of a dead owner is taken over', async () => {
    const dir = await fresh();
    const j = await LegacyJournal.open(dir);
    await expect(LegacyJournal.open(dir)).rejects.toThrow(JournalLockedError);
    await j.close();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(dir, 'journal.lock'), `${dead}\n`);
    const again = await LegacyJournal.open(dir);
    expect(await readFile(join(dir, 'journal.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await again.close();
  });
});
