/**
 * Test support: a `LogFs` that hands every operation to another one (node:fs unless told), so a test
 * file system overrides only the operations it watches or breaks — a file's append or fsync through
 * the `file*` hooks, which every file it creates or resumes goes through, the rest as methods.
 */
import type { LogFile, LogFs } from '../log-fs.js';
import { nodeLogFs } from '../log-fs.js';

export class DelegatingFs implements LogFs {
  constructor(protected readonly inner: LogFs = nodeLogFs) {}

  protected fileAppend(file: LogFile, chunks: readonly Uint8Array[]): Promise<void> {
    return file.append(chunks);
  }
  protected fileSync(file: LogFile): Promise<void> {
    return file.sync();
  }

  /** The file as handed out: its append and fsync go through the hooks above. */
  private wrap(file: LogFile): LogFile {
    return {
      append: (chunks) => this.fileAppend(file, chunks),
      truncate: (size) => file.truncate(size),
      sync: () => this.fileSync(file),
      close: () => file.close(),
    };
  }
  async create(path: string, header: Uint8Array): Promise<LogFile> {
    return this.wrap(await this.inner.create(path, header));
  }
  resume(path: string): LogFile {
    return this.wrap(this.inner.resume(path));
  }
  syncDir(path: string): Promise<void> {
    return this.inner.syncDir(path);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  probeSpace(dir: string, bytes: number): Promise<void> {
    return this.inner.probeSpace(dir, bytes);
  }
}
