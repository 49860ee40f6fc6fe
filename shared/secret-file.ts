/**
 * Secret files (tokens, keys): created 0600 and written atomically (tmp + fsync + rename + directory
 * fsync), so a crash never leaves a half-written credential that makes every later start fail.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

function writeTemp(path: string, data: string): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const bytes = Buffer.from(data);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

export function writeSecretFileSync(path: string, data: string): void {
  renameSync(writeTemp(path, data), path);
  syncDir(dirname(path));
}

/**
 * Creates the file only if it does not exist yet (linked into place, so never over another's):
 * false when another process got there first, whose file is kept — two services creating the same
 * key at once end up sharing one.
 */
export function createSecretFileSync(path: string, data: string): boolean {
  const tmp = writeTemp(path, data);
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  syncDir(dirname(path));
  return true;
}

function syncDir(dir: string): void {
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** The file's trimmed text, or undefined when it does not exist. */
export function readSecretFileSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
