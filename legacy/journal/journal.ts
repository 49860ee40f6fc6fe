/**
 * The legacy lane's durable journal: per-topic logs with watermarks gapless from 1, in one append-only
 * file (`journal.log` in the data directory). Appends are serialised and group-committed: a batch is
 * written and fdatasync'ed before any of its watermarks is visible or acknowledged, so what a client
 * was sent survives a crash. Retention writes a prune record; rows are never rewritten in place.
 *
 * A row remembers the (stream, idempotency key) it came from: the same event delivered twice (a Kafka
 * redelivery, a retried ingest call) keeps its first watermark; the same key with another payload is a
 * conflict and is refused, as the sync module refuses it.
 */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { type JsonValue, legacyPayloadHash } from '../protocol/canonical-json.js';
import { readJournalFile } from './journal-file.js';
import { lockJournal } from './lock.js';
import { encodeRecord, type RowRecord } from './record-codec.js';
import { TopicLog } from './topic-log.js';

/** What the lane mirrors: one authority event on a legacy topic. */
export interface JournalEntry {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: number;
  readonly payload: JsonValue;
  readonly streamId: string;
  readonly idempotencyKey: string;
}

export type AppendOutcome =
  | { readonly status: 'appended' | 'duplicate'; readonly topic: string; readonly watermark: number }
  | {
      readonly status: 'conflict';
      readonly topic: string;
      readonly watermark: number;
      readonly detail: string;
    };

interface KeyEntry {
  readonly topic: string;
  readonly watermark: number;
  readonly hash: string;
}

type JournalState =
  | { readonly kind: 'open'; readonly fh: FileHandle }
  | { readonly kind: 'failed'; readonly error: Error }
  | { readonly kind: 'closed' };

const keyOf = (streamId: string, key: string) => `${streamId}\u0000${key}`;

export class LegacyJournal {
  private readonly logs = new Map<string, TopicLog>();
  private readonly keys = new Map<string, KeyEntry>();
  private readonly listeners = new Set<(topic: string, head: number) => void>();
  private tail: Promise<unknown> = Promise.resolve();
  private state: JournalState = { kind: 'closed' };
  private unlock: () => Promise<void> = async () => {};

  private constructor(readonly file: string) {}

  /**
   * Opens (or creates) the journal in `dataDir`; a damaged file throws JournalCorruptError, a journal
   * another live process holds throws JournalLockedError.
   */
  static async open(dataDir: string): Promise<LegacyJournal> {
    await mkdir(dataDir, { recursive: true });
    const journal = new LegacyJournal(join(dataDir, 'journal.log'));
    const unlock = await lockJournal(join(dataDir, 'journal.lock'));
    try {
      await journal.load();
      journal.state = { kind: 'open', fh: await open(journal.file, 'a') };
    } catch (e) {
      await unlock();
      throw e;
    }
    journal.unlock = unlock;
    return journal;
  }

  private async load(): Promise<void> {
    await readJournalFile(this.file, (record) => {
      const log = this.log(record.topic);
      if (record.r === 'prune') {
        log.prune(record.through);
        return undefined;
      }
      if (record.watermark !== log.lastAssigned + 1) {
        return `watermark ${record.watermark} of ${record.topic} follows ${log.lastAssigned} (not gapless)`;
      }
      log.push(record);
      this.keys.set(keyOf(record.stream_id, record.idempotency_key), {
        topic: record.topic,
        watermark: record.watermark,
        hash: record.payload_hash,
      });
      return undefined;
    });
  }

  private log(topic: string): TopicLog {
    let log = this.logs.get(topic);
    if (!log) {
      log = new TopicLog();
      this.logs.set(topic, log);
    }
    return log;
  }

  /** Largest retained watermark of `topic` (0 when none). */
  head(topic: string): number {
    return this.logs.get(topic)?.head() ?? 0;
  }

  oldest(topic: string): number | undefined {
    return this.logs.get(topic)?.oldest();
  }

  read(topic: string, after: number, limit: number): RowRecord[] {
    return this.logs.get(topic)?.read(after, limit) ?? [];
  }

  /** Topics that hold or held rows. */
  topics(): string[] {
    return [...this.logs.keys()];
  }

  /** Called after each committed batch, once per topic that grew, with its new head. */
  onAppend(listener: (topic: string, head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Appends in order; resolves once the new rows are on disk. */
  append(entries: readonly JournalEntry[]): Promise<AppendOutcome[]> {
    return this.serial(async (fh) => {
      const outcomes: AppendOutcome[] = [];
      const rows: RowRecord[] = [];
      const pending = new Map<string, KeyEntry>();
      const next = new Map<string, number>();
      const now = Date.now();
      for (const e of entries) {
        const hash = legacyPayloadHash(e.payload);
        const k = keyOf(e.streamId, e.idempotencyKey);
        const seen = this.keys.get(k) ?? pending.get(k);
        if (seen) {
          outcomes.push(
            seen.hash === hash
              ? { status: 'duplicate', topic: seen.topic, watermark: seen.watermark }
              : {
                  status: 'conflict',
                  topic: seen.topic,
                  watermark: seen.watermark,
                  detail: `idempotency key ${e.idempotencyKey} of ${e.streamId} was mirrored with another payload`,
                },
          );
          continue;
        }
        const watermark = (next.get(e.topic) ?? this.log(e.topic).lastAssigned) + 1;
        next.set(e.topic, watermark);
        pending.set(k, { topic: e.topic, watermark, hash });
        rows.push({
          r: 'row',
          topic: e.topic,
          watermark,
          doc_key: e.docKey,
          doc_version: e.docVersion,
          payload: e.payload,
          payload_hash: hash,
          inserted_at_ms: now,
          stream_id: e.streamId,
          idempotency_key: e.idempotencyKey,
        });
        outcomes.push({ status: 'appended', topic: e.topic, watermark });
      }
      if (rows.length > 0) {
        await fh.write(rows.map(encodeRecord).join(''));
        await fh.datasync();
        for (const row of rows) this.log(row.topic).push(row);
        for (const [k, v] of pending) this.keys.set(k, v);
        for (const [topic, head] of next) for (const l of this.listeners) l(topic, head);
      }
      return outcomes;
    });
  }

  /** Retention: drops `topic`'s rows up to `through` (durably). Returns how many were dropped. */
  prune(topic: string, through: number): Promise<number> {
    return this.serial(async (fh) => {
      const log = this.logs.get(topic);
      if (!log || (log.oldest() ?? Number.POSITIVE_INFINITY) > through) return 0;
      await fh.write(encodeRecord({ r: 'prune', topic, through }));
      await fh.datasync();
      return log.prune(through);
    });
  }

  /** Prunes every topic's rows older than its retention (`retentionSeconds(topic)`). */
  async pruneExpired(retentionSeconds: (topic: string) => number, nowMs = Date.now()): Promise<number> {
    let dropped = 0;
    for (const [topic, log] of this.logs) {
      const through = log.expiredThrough(nowMs - retentionSeconds(topic) * 1000);
      if (through !== undefined) dropped += await this.prune(topic, through);
    }
    return dropped;
  }

  async close(): Promise<void> {
    await this.tail.catch(() => {});
    const s = this.state;
    this.state = { kind: 'closed' };
    if (s.kind === 'open') await s.fh.close();
    await this.unlock();
  }

  /** Runs `work` after every earlier write; a failed write fails the journal for good. */
  private serial<T>(work: (fh: FileHandle) => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      const s = this.state;
      if (s.kind === 'failed') throw s.error;
      if (s.kind === 'closed') throw new Error('legacy lane journal is closed');
      try {
        return await work(s.fh);
      } catch (e) {
        // What reached the disk is unknown now; appending more could leave a gap. Later writes refuse.
        this.state = { kind: 'failed', error: e as Error };
        throw e;
      }
    });
    this.tail = run.catch(() => {});
    return run;
  }
}
