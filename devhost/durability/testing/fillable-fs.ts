/**
 * Test support: the log's file seam (`logFs`) over node:fs, except that while `full` a write lands
 * only partly and then fails as a full disk does (ENOSPC), creating a segment fails, and the space
 * probe finds no space. Lets the out-of-space paths run anywhere, without a small tmpfs.
 */
import type { LogFile } from '../log-fs.js';
import { DelegatingFs } from './delegating-fs.js';

export const enospc = () =>
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

export class FillableFs extends DelegatingFs {
  full = false;
  /** Writes that reached the file whole: a test waits on it to know a record is written (not yet fsynced). */
  written = 0;

  protected override async fileAppend(file: LogFile, chunks: readonly Uint8Array[]): Promise<void> {
    if (!this.full) {
      await file.append(chunks);
      this.written++;
      return;
    }
    const first = chunks[0];
    if (first && first.length > 1) await file.append([first.subarray(0, first.length >> 1)]);
    throw enospc();
  }
  override async create(path: string, header: Uint8Array): Promise<LogFile> {
    if (this.full) throw enospc();
    return super.create(path, header);
  }
  override async probeSpace(dir: string, bytes: number): Promise<void> {
    if (this.full) throw enospc();
    return super.probeSpace(dir, bytes);
  }
}
