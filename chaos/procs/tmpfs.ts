/**
 * devhost's data dir on a real tmpfs of its own, so the chaos run can fill the disk for a while: a
 * remount to exactly the bytes in use leaves no free block (every write gets ENOSPC from the kernel,
 * as on a full disk), a remount to the full size gives the space back. Mounting needs root; where it
 * is refused the run goes on without the `disk_full` fault and says so.
 */
import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class Tmpfs {
  private constructor(
    readonly dir: string,
    private readonly sizeBytes: number,
  ) {}

  /** Mounts a tmpfs of `sizeBytes` on `dir`, or says why not (undefined and the reason). */
  static async mount(dir: string, sizeBytes: number): Promise<Tmpfs | string> {
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
      return new Tmpfs(dir, sizeBytes);
    } catch (e) {
      return String(e instanceof Error ? e.message : e).split('\n')[0] ?? 'mount failed';
    }
  }

  /** Bytes in use now, at least one block: `size=0` would make the tmpfs unlimited, and it could not be limited again. */
  async used(): Promise<number> {
    const s = await statfs(this.dir);
    return Math.max(1, s.blocks - s.bfree) * s.bsize;
  }

  /**
   * No free block left: the size shrinks to what is in use. tmpfs refuses a size below what is in
   * use (EINVAL), and the process on it may write between the reading and the remount — found by a
   * long chaos run — so a refused remount is tried again with what is in use then, plus a slack
   * that grows by 16 KiB a try (a busy writer fills that within a few writes).
   */
  async fill(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const used = (await this.used()) + (attempt - 1) * 16 * 1024;
      try {
        await run('mount', ['-o', `remount,size=${used}`, this.dir]);
        return used;
      } catch (e) {
        if (attempt >= 50) throw e;
      }
    }
  }

  /** The space returns. */
  async free(): Promise<void> {
    await run('mount', ['-o', `remount,size=${this.sizeBytes}`, this.dir]);
  }

  async unmount(): Promise<void> {
    await run('umount', [this.dir]).catch(() => run('umount', ['-l', this.dir]));
  }
}
