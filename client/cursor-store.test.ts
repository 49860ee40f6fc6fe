import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileCursorStore, MemoryCursorStore } from './cursor-store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('cursor stores', () => {
  it('memory store returns what was saved', async () => {
    const s = new MemoryCursorStore();
    expect(await s.load('a')).toBeUndefined();
    await s.save('a', { epoch: 2n, watermark: 9n });
    expect(await s.load('a')).toEqual({ epoch: 2n, watermark: 9n });
  });

  it('file store survives a new process (a fresh instance reads the file) and keeps u64 precision', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cursor-'));
    dirs.push(dir);
    const path = join(dir, 'nested', 'cursors.json');
    const first = new FileCursorStore(path);
    await Promise.all([
      first.save('a', { epoch: 1n, watermark: 5n }),
      first.save('b', { epoch: 3n, watermark: 18446744073709551615n }),
    ]);
    await first.save('a', { epoch: 1n, watermark: 6n });
    const second = new FileCursorStore(path);
    expect(await second.load('a')).toEqual({ epoch: 1n, watermark: 6n });
    expect(await second.load('b')).toEqual({ epoch: 3n, watermark: 18446744073709551615n });
    expect(JSON.parse(await readFile(path, 'utf8')).b.watermark).toBe('18446744073709551615');
  });

  it('file store refuses a corrupt file instead of silently starting over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cursor-'));
    dirs.push(dir);
    const path = join(dir, 'cursors.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, '{not json'));
    await expect(new FileCursorStore(path).load('a')).rejects.toThrow(/unreadable/);
  });
});
