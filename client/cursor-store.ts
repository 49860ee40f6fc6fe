/**
 * Where a client keeps, per stream, how far it has applied: the stream's epoch and the last applied
 * seq (the watermark). Resuming means "everything after the watermark, in the same epoch".
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface Cursor {
  readonly epoch: bigint;
  readonly watermark: bigint;
}

export interface CursorStore {
  load(streamId: string): Promise<Cursor | undefined>;
  save(streamId: string, cursor: Cursor): Promise<void>;
}

export class MemoryCursorStore implements CursorStore {
  private readonly cursors = new Map<string, Cursor>();
  async load(streamId: string): Promise<Cursor | undefined> {
    return this.cursors.get(streamId);
  }
  async save(streamId: string, cursor: Cursor): Promise<void> {
    this.cursors.set(streamId, cursor);
  }
}

type FileShape = Record<string, { epoch: string; watermark: string }>;

/**
 * One JSON file for all streams of a client. Writes go to a temp file that is fsynced and renamed
 * over the old one, so a crash leaves either the previous or the new cursor, never a torn file.
 * Saves are serialised; concurrent saves coalesce into the latest state.
 */
export class FileCursorStore implements CursorStore {
  /** Loaded once; concurrent first calls share the same load (and so the same map). */
  private cache: Promise<Map<string, Cursor>> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  private all(): Promise<Map<string, Cursor>> {
    this.cache ??= this.read();
    return this.cache;
  }

  private async read(): Promise<Map<string, Cursor>> {
    let parsed: FileShape = {};
    try {
      parsed = JSON.parse(await readFile(this.path, 'utf8')) as FileShape;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`cursor store ${this.path} is unreadable: ${String(e)}`);
    }
    return new Map(
      Object.entries(parsed).map(([k, v]) => [k, { epoch: BigInt(v.epoch), watermark: BigInt(v.watermark) }]),
    );
  }

  async load(streamId: string): Promise<Cursor | undefined> {
    return (await this.all()).get(streamId);
  }

  async save(streamId: string, cursor: Cursor): Promise<void> {
    (await this.all()).set(streamId, cursor);
    const next = this.writing.then(() => this.flush());
    this.writing = next.catch(() => {});
    return next;
  }

  private async flush(): Promise<void> {
    const data: FileShape = {};
    for (const [k, v] of await this.all())
      data[k] = { epoch: v.epoch.toString(), watermark: v.watermark.toString() };
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify(data, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
