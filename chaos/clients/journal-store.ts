/**
 * A chaos client's application state and its cursor store in one: an append-only journal. An event
 * counts as applied when the library saves the cursor past it, and that save is one appended line
 * per event carrying the epoch — so a kill -9 anywhere leaves the journal and the cursor agreeing
 * (a process kill does not lose written bytes; a torn last line was never applied). This is the
 * pattern an application needs for exactly-once across crashes: `FileCursorStore` is saved after
 * `onEvent` resolves, so an application keeping its state elsewhere sees the event of that window again.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type { Cursor, CursorStore } from '../../client/cursor-store.js';
import type { SyncEvent } from '../../client/sync-client.js';
import { journalLine, parseJournal } from '../invariants/collect.js';

export class JournalStore implements CursorStore {
  private readonly cursors = new Map<string, Cursor>();
  /** Handed to the application, not yet covered by a saved cursor. */
  private readonly pending = new Map<string, SyncEvent[]>();

  constructor(
    private readonly path: string,
    private readonly onApplied: (streamId: string, seq: bigint) => void = () => {},
  ) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    // A torn last line is cut off so the next append starts on a fresh line.
    if (text && !text.endsWith('\n')) appendFileSync(path, '\n');
    for (const e of parseJournal(text))
      this.cursors.set(e.streamId, { epoch: e.epoch, watermark: e.type === 'applied' ? e.seq : e.watermark });
  }

  received(streamId: string, event: SyncEvent): void {
    this.pending.set(streamId, [...(this.pending.get(streamId) ?? []), event]);
  }

  rebootstrapped(streamId: string, epoch: bigint, watermark: bigint, reason?: string): void {
    this.pending.delete(streamId);
    appendFileSync(
      this.path,
      journalLine({ type: 'rebootstrap', streamId, epoch, watermark, ...(reason ? { reason } : {}) }),
    );
    this.cursors.set(streamId, { epoch, watermark });
  }

  async load(streamId: string): Promise<Cursor | undefined> {
    return this.cursors.get(streamId);
  }

  async save(streamId: string, cursor: Cursor): Promise<void> {
    const pending = this.pending.get(streamId) ?? [];
    const covered = pending.filter((e) => e.seq <= cursor.watermark);
    this.pending.set(
      streamId,
      pending.filter((e) => e.seq > cursor.watermark),
    );
    if (covered.length > 0) {
      appendFileSync(
        this.path,
        covered
          .map((e) =>
            journalLine({
              type: 'applied',
              streamId,
              epoch: cursor.epoch,
              seq: e.seq,
              key: e.idempotencyKey,
              payloadHash: Buffer.from(e.payloadHash).toString('hex'),
            }),
          )
          .join(''),
      );
      for (const e of covered) this.onApplied(streamId, e.seq);
    }
    this.cursors.set(streamId, cursor);
  }
}
