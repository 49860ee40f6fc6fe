/**
 * Dual-stack parity over the real broker: one authority log through Kafka into spacetime-sync
 * (service + devhost) and into the legacy-lane reference server, a resuming client on each (our
 * SyncClient, the project's legacy client), compared by the parity harness — here a generated
 * workload with duplicates, restarts of each lane and retention. Injected faults and the CLI:
 * dual-stack-faults.kafka.test.ts; shadow mode in the service: shadow-mode.kafka.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import type { DualStack } from './testing/dual-stack.js';
import {
  collectors,
  events,
  NOTES,
  ownLanes,
  parity,
  RUNS,
  updates,
  WORKER_EVENTS,
  WORKER_SUMMARIES,
} from './testing/parity-run.js';
import { seeded, Workload } from './testing/workload.js';

let stack: DualStack;
ownLanes((s) => {
  stack = s;
});

describe('dual-stack parity: a generated workload', () => {
  it('a generated workload with duplicates, restarts of each lane and retention shows zero divergence', async () => {
    const w = new Workload(seeded(20261130), {
      [RUNS]: ['run:1', 'run:2', 'run:3', 'run:4'],
      [WORKER_SUMMARIES]: ['worker:1:summary', 'worker:2:summary', 'worker:3:summary'],
      // The gen-1 lane names worker events per event (runtime/codex_worker_event:<worker>:<seq>); their
      // streams are those names without the seq (parity/mapping.ts GEN1_RULES, which the lane uses too).
      [WORKER_EVENTS]: [1, 2, 3, 4].map((n) => `runtime/codex_worker_event:worker-${n}`),
      [NOTES]: ['note:0'],
    });
    const topics = [RUNS, WORKER_SUMMARIES, WORKER_EVENTS, NOTES];
    const c = collectors(stack, topics, w.streams);
    const noteCount = () => w.events.filter((e) => e.streamId === 'note:0').length;
    const run = await parity(c, topics, w.streams, async () => {
      await stack.produce(stack.shared, w.round(80));
      await stack.restartCandidate(); // redelivery: the adapter resumes from the offsets stored with its appends
      await stack.produce(stack.shared, w.round(80));
      await stack.restartLegacy(); // the legacy lane resumes from its committed offsets and its journal
      await stack.produce(stack.shared, w.round(80));
      // Retention truncation of history both clients already have: the lanes keep the same events.
      for (let i = 0; i < 6; i++) await stack.produce(stack.shared, [w.event(NOTES, 'note:0')]);
      const notes = BigInt(noteCount());
      await vi
        .waitFor(
          () => {
            expect(updates(c.legacy.entries, NOTES)).toHaveLength(Number(notes));
            expect(
              events(c.candidate.entries, 'note:0'),
              `candidate ${c.candidate.describe()}, ${c.candidate.entries.length} entries; adapter appended ${[...stack.service.writer.streams().values()].reduce((a, s) => a + Number(s.head), 0)}`,
            ).toHaveLength(Number(notes));
          },
          { timeout: 60_000, interval: 100 },
        )
        .catch(async (e) => {
          const lag = (await stack.service.kafka?.partitionLag())?.map(
            (p) => `${p.topic}/${p.partition} ${p.committedOffset}/${p.endOffset}`,
          );
          console.error('DIAG', JSON.stringify(stack.service.kafka?.status()), lag);
          throw e;
        });
      await stack.legacy.journal.prune(NOTES, Number(notes - 3n));
      await stack.truncateCandidate('note:0', 3n);
      await stack.produce(stack.shared, w.round(40));
      // Both lanes delivered every event (settling only waits for them to agree).
      await vi
        .waitFor(
          () => {
            expect(new Set(updates(c.legacy.entries).map((u) => `${u.topic}#${u.docVersion}`)).size).toBe(
              w.events.length,
            );
            const delivered = c.candidate.entries.flatMap((e) =>
              e.kind === 'event' ? [`${e.event.sourceTopic}#${e.event.sourceSeq}`] : [],
            );
            expect(new Set(delivered).size).toBe(w.events.length);
          },
          { timeout: 60_000, interval: 100 },
        )
        .catch(async (e) => {
          const heads = [...stack.service.writer.streams()].map(
            ([id, h]) => `${id}:${h.head}/${h.lowWatermark}/${h.epoch}`,
          );
          const got = new Map<string, number>();
          for (const x of c.candidate.entries)
            if (x.kind === 'event') got.set(x.event.streamId, (got.get(x.event.streamId) ?? 0) + 1);
          console.error('DIAG-final', c.candidate.describe(), heads.join(' '), JSON.stringify([...got]));
          throw e;
        });
    });
    expect(run.classification.divergences).toEqual([]);
    expect(run.state).toEqual({ t: 'done', why: 'agreed' });
    expect(run.classification.compared).toBe(w.events.length);
    expect(run.classification.timeToParityMs.count).toBe(w.events.length);

    // A client resuming from below both lanes' retention: both say stale, both resync to the same rows.
    const behind = collectors(stack, [NOTES], ['note:0'], {
      legacy: new Map([[NOTES, 1n]]),
      candidate: new Map([['note:0', 1n]]),
    });
    const resync = await parity(behind, [NOTES], ['note:0'], async () => {
      await vi.waitFor(() => expect(events(behind.candidate.entries, 'note:0').length).toBeGreaterThan(0), {
        timeout: 30_000,
      });
    });
    expect(resync.classification.divergences).toEqual([]);
    expect(behind.legacy.entries.filter((e) => e.kind === 'stale')).toHaveLength(1);
    expect(behind.candidate.entries.filter((e) => e.kind === 'rebootstrap')).toHaveLength(1);
    expect(resync.classification.compared).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
