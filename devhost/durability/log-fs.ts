/**
 * The file operations the log writer needs, as a port: the Node adapter below for real directories,
 * and a recording fake in tests to check when fsyncs happen relative to the durable offset.
 */
import { close, fsync, ftruncate, open, openSync, writev } from 'node:fs';
import { open as openFile, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fsyncDir } from './fs-util.js';

export interface LogFile {
  /** Appends the chunks, in order, at the end of the file. */
  append(chunks: readonly Uint8Array[]): Promise<void>;
  /** Cuts the file back to `size` bytes (after a write that ran out of space). */
  truncate(size: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface LogFs {
  /** Creates a new file holding `header`; fails if the path exists. */
  create(path: string, header: Uint8Array): Promise<LogFile>;
  /** Opens an existing file to append to (startup only, so synchronous). */
  resume(path: string): LogFile;
  syncDir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Resolves once `bytes` could be written and fsynced in `dir` (a probe file, removed again). */
  probeSpace(dir: string, bytes: number): Promise<void>;
}

const writevAsync = promisify(writev);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);
const ftruncateAsync = promisify(ftruncate);
const openAsync = promisify(open) as (path: string, flags: string) => Promise<number>;

function fdLogFile(fd: number): LogFile {
  return {
    async append(chunks) {
      let pending = [...chunks];
      // writev may write less than asked (rare for files); resume from the first unwritten byte.
      while (pending.length > 0) {
        let written = (await writevAsync(fd, pending)).bytesWritten;
        const rest: Uint8Array[] = [];
        for (const chunk of pending) {
          if (written >= chunk.length) written -= chunk.length;
          else {
            rest.push(chunk.subarray(written));
            written = 0;
          }
        }
        pending = rest;
      }
    },
    truncate: (size) => ftruncateAsync(fd, size),
    sync: () => fsyncAsync(fd),
    close: () => closeAsync(fd),
  };
}

export const nodeLogFs: LogFs = {
  async create(path, header) {
    // 'ax': append mode, and fail rather than clobber an existing segment.
    const file = fdLogFile(await openAsync(path, 'ax'));
    try {
      await file.append([header]);
    } catch (e) {
      await file.close();
      throw e;
    }
    return file;
  },
  resume: (path) => fdLogFile(openSync(path, 'a')),
  syncDir: fsyncDir,
  remove: (path) => unlink(path),
  async probeSpace(dir, bytes) {
    const path = `${dir}/.space-probe`;
    const file = await openFile(path, 'w');
    try {
      await file.write(Buffer.alloc(bytes));
      await file.sync();
    } finally {
      await file.close();
      await unlink(path).catch(() => {});
    }
  },
};
