/**
 * Test support: the log's file seam (`logFs`) over node:fs, except that while `full` a write lands
 * only partly and then fails as a full disk does (ENOSPC), creating a segment fails, and the space
 * probe finds no space. Lets the out-of-space paths run anywhere, without a small tmpfs.
 */
import type { LogFile, LogFs } from '../log-fs.js';
import { nodeLogFs } from '../log-fs.js';

export const enospc = () =>
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

export class FillableFs implements LogFs {
  full = false;
  /** Writes that reached the file whole: a test waits on it to know a record is written (not yet fsynced). */
  written = 0;
  private wrap(file: LogFile): LogFile {
    return {
      append: async (chunks) => {
        if (!this.full) {
          await file.append(chunks);
          this.written++;
          return;
        }
        const first = chunks[0];
        if (first && first.length > 1) await file.append([first.subarray(0, first.length >> 1)]);
        throw enospc();
      },
      truncate: (size) => file.truncate(size),
      sync: () => file.sync(),
      close: () => file.close(),
    };
  }
  async create(path: string, header: Uint8Array) {
    if (this.full) throw enospc();
    return this.wrap(await nodeLogFs.create(path, header));
  }
  resume(path: string) {
    return this.wrap(nodeLogFs.resume(path));
  }
  syncDir(path: string) {
    return nodeLogFs.syncDir(path);
  }
  remove(path: string) {
    return nodeLogFs.remove(path);
  }
  async probeSpace(dir: string, bytes: number) {
    if (this.full) throw enospc();
    return nodeLogFs.probeSpace(dir, bytes);
  }
}
