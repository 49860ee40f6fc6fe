/**
 * One process per journal: two lanes appending to the same file would interleave watermarks. The lock
 * is a file holding the owner's pid, created exclusively; a lock left by a process that no longer
 * exists (killed with -9) is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';

export class JournalLockedError extends Error {
  override readonly name = 'JournalLockedError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock at `file`; resolves to its release. */
export async function lockJournal(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await unlink(file).catch(() => {});
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new JournalLockedError(`the legacy lane journal is in use by process ${pid} (lock ${file})`);
    }
    await unlink(file).catch(() => {});
  }
  throw new JournalLockedError(`could not take the journal lock ${file}`);
}
