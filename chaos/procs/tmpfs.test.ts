/**
 * The disk_full fault's tmpfs (needs root to mount; skipped with the reason otherwise). Regression:
 * a long chaos run's fill() failed with "bad option" because the process on the tmpfs wrote between
 * reading the bytes in use and the remount to that size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tmpfs } from './tmpfs.js';

const dir = mkdtempSync(join(tmpdir(), 'chaos-tmpfs-'));
const disk = await Tmpfs.mount(dir, 512 * 1024 * 1024);
if (typeof disk === 'string') console.warn(`tmpfs.test.ts skipped: cannot mount a tmpfs here (${disk})`);

afterAll(async () => {
  if (typeof disk !== 'string') await disk.unmount();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(typeof disk === 'string')('the chaos run tmpfs', () => {
  it('fills while a writer keeps writing (every write then gets ENOSPC), and gives the space back', async () => {
    const fs = disk as Tmpfs;
    const file = join(dir, 'log');
    let writing = true;
    let written = 0;
    let refused: unknown;
    // A writer appending as fast as it can, as devhost's commit log does under load.
    const writer = (async () => {
      while (writing) {
        try {
          await appendFile(file, Buffer.alloc(4096, 1));
          written++;
        } catch (e) {
          refused = e;
          await new Promise((r) => setImmediate(r));
        }
      }
    })();
    await expect.poll(() => written).toBeGreaterThan(50);
    for (let i = 0; i < 20; i++) {
      await fs.fill();
      await fs.free();
    }
    refused = undefined;
    await fs.fill();
    // Full: the writer's next writes are refused (after at most the small slack a racing fill leaves).
    await expect.poll(() => (refused as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC');
    await expect(writeFile(join(dir, 'more'), Buffer.alloc(8192))).rejects.toMatchObject({ code: 'ENOSPC' });
    await fs.free();
    writing = false;
    await writer;
    await writeFile(join(dir, 'more'), Buffer.alloc(8192));
  });
});
