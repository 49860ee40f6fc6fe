/**
 * One writer per data directory. Two hosts appending to the same log would interleave offsets and
 * corrupt it, so `<dir>/lock` records the owner's pid; a lock whose process is gone (crash, kill -9)
 * is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DurabilityError } from './errors.js';

const LOCK_FILE = 'lock';
const heldHere = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws `locked`; returns the release function. */
export function acquireDirLock(dir: string): () => void {
  const key = resolve(dir);
  if (heldHere.has(key)) throw new DurabilityError('locked', `${dir} is already open in this process`);
  const path = `${dir}/${LOCK_FILE}`;
  let owner: number | undefined;
  try {
    owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    owner = undefined;
  }
  if (owner !== undefined && Number.isInteger(owner) && owner !== process.pid && processAlive(owner))
    throw new DurabilityError(
      'locked',
      `${dir} is in use by process ${owner}; stop it first (or delete ${path} if that process is not a devhost)`,
    );
  writeFileSync(path, `${process.pid}\n`);
  heldHere.add(key);
  return () => {
    heldHere.delete(key);
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}
