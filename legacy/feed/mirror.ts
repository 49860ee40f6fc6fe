/**
 * The legacy lane's intake: the one port the service (ingest path) and the lane's own Kafka consumer
 * call with every accepted envelope. Envelopes on topics the lane does not serve are counted as not
 * mirrored; envelopes the legacy wire cannot carry are refused with a reason, counted and logged;
 * the rest are appended to the journal (durably) before `accept` resolves.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { AcceptedEnvelopeSink } from '../../adapter/ports/accepted-envelopes.js';
import type { SyncEnvelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import type { AppendOutcome, JournalEntry, LegacyJournal } from '../journal/journal.js';
import { type DocKeyOf, toJournalEntry } from './to-entry.js';

export type { AcceptedEnvelopeSink };

export type MirrorOutcome =
  | 'appended'
  | 'duplicate'
  | 'conflict'
  | 'topic_not_served'
  | 'payload_not_json'
  | 'payload_not_object'
  | 'version_out_of_range'
  | 'unmappable';

export class LegacyMirror implements AcceptedEnvelopeSink {
  private readonly served: ReadonlySet<string>;
  private readonly tally = new Map<MirrorOutcome, number>();
  private readonly counter: Counter<'outcome'> | undefined;

  constructor(
    private readonly o: {
      journal: LegacyJournal;
      servedTopics: readonly string[];
      logger: Logger;
      registry?: Registry;
      docKeyOf?: DocKeyOf;
    },
  ) {
    this.served = new Set(o.servedTopics);
    this.counter = o.registry
      ? new Counter({
          name: 'spacetime_sync_legacy_lane_events_total',
          help: 'Accepted authority events seen by the legacy lane, by outcome (appended, duplicate, or why not mirrored)',
          labelNames: ['outcome'],
          registers: [o.registry],
        })
      : undefined;
  }

  async accept(envelopes: readonly SyncEnvelope[]): Promise<void> {
    const entries: JournalEntry[] = [];
    for (const e of envelopes) {
      const r = toJournalEntry(e, this.served, this.o.docKeyOf);
      if (r.ok) {
        entries.push(r.entry);
        continue;
      }
      this.count(r.reason);
      if (r.kind === 'refused')
        this.o.logger.warn({ reason: r.reason, detail: r.detail }, 'legacy lane refused an event');
    }
    if (entries.length === 0) return;
    const outcomes = await this.o.journal.append(entries);
    for (const out of outcomes) this.record(out);
  }

  /** How many events ended each way since start. */
  counts(): Readonly<Record<MirrorOutcome, number>> {
    const all: MirrorOutcome[] = [
      'appended',
      'duplicate',
      'conflict',
      'topic_not_served',
      'payload_not_json',
      'payload_not_object',
      'version_out_of_range',
      'unmappable',
    ];
    return Object.fromEntries(all.map((k) => [k, this.tally.get(k) ?? 0])) as Record<MirrorOutcome, number>;
  }

  private record(out: AppendOutcome): void {
    this.count(out.status);
    if (out.status === 'conflict')
      this.o.logger.warn({ reason: 'conflict', detail: out.detail }, 'legacy lane refused an event');
  }

  private count(outcome: MirrorOutcome): void {
    this.tally.set(outcome, (this.tally.get(outcome) ?? 0) + 1);
    this.counter?.inc({ outcome });
  }
}
