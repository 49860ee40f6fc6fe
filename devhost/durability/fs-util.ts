/**
 * The fsync steps that make a rename or a new file survive a power cut: data fsync before rename, and
 * a directory fsync after, because the directory entry is separate metadata.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** tmp + fsync + rename + dir fsync, blocking (startup and small metadata only). */
export function writeFileAtomicSync(dir: string, name: string, data: Uint8Array): void {
  const tmp = `${dir}/${name}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, `${dir}/${name}`);
  fsyncDirSync(dir);
}

/** Same steps as `writeFileAtomicSync` without blocking the event loop. */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array): Promise<void> {
  const tmp = `${dir}/${name}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, `${dir}/${name}`);
  await fsyncDir(dir);
}

/** 20-digit zero-padded offset: file names sort in offset order. */
export function offsetName(offset: bigint, ext: string): string {
  return `${offset.toString().padStart(20, '0')}${ext}`;
}

/** The offset a `offsetName` file name encodes, or undefined for any other name. */
export function parseOffsetName(name: string, ext: string): bigint | undefined {
  if (!name.endsWith(ext)) return undefined;
  const stem = name.slice(0, -ext.length);
  return /^\d{20}$/.test(stem) ? BigInt(stem) : undefined;
}
