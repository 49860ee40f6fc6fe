/**
 * Dual-stack parity over the real broker: one authority log through Kafka into spacetime-sync
 * (service + devhost) and into the legacy-lane reference server, a resuming client on each (our
 * SyncClient, the project's legacy client), compared by the parity harness.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { CandidateCollector } from '../../parity/collect/candidate.js';
import { LegacyCollector } from '../../parity/collect/legacy.js';
import { type RunResult, runParity } from '../../parity/harness.js';
import { GEN1_RULES, LaneMapping } from '../../parity/mapping.js';
import type { CandidateEntry, LegacyEntry } from '../../parity/observation.js';
import { syncEnvelope } from '../support/envelopes.js';
import { DualStack } from './testing/dual-stack.js';
import { seeded, Workload } from './testing/workload.js';

const RUNS = 'runtime.run_summaries';
const WORKER_SUMMARIES = 'runtime.codex_worker_summaries';
const WORKER_EVENTS = 'runtime.codex_worker_events';
const NOTES = 'runtime.notifications';
const FAULTS = 'parity.faults';
const SNAPSHOT = 'parity.snapshot';
const SERVED = [
  RUNS,
  WORKER_SUMMARIES,
  WORKER_EVENTS,
  NOTES,
  FAULTS,
  SNAPSHOT,
  'parity.cli',
  'parity.shadow',
];

let stack: DualStack;

/** Each block gets lanes of its own, so one block's restarts and restores never reach another's. */
function ownLanes(): void {
  beforeAll(async () => {
    stack = await DualStack.start(SERVED);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });
}

function collectors(
  topics: readonly string[],
  streams: readonly string[],
  from: { legacy?: Map<string, bigint>; candidate?: Map<string, bigint> } = {},
) {
  const legacy = new LegacyCollector(
    { url: stack.legacy.url, token: async () => stack.legacyToken },
    topics,
    from.legacy,
  );
  const candidate = new CandidateCollector(
    { uri: stack.candidateUri, database: stack.service.database, token: stack.ownerToken },
    streams,
    from.candidate,
  );
  return { legacy, candidate };
}

/** Starts a run that collects until `workload` finishes, then settles. */
function parity(
  c: ReturnType<typeof collectors>,
  topics: readonly string[],
  streams: readonly string[],
  workload: () => Promise<void>,
  settleMs = 30_000,
): Promise<RunResult> {
  let done!: () => void;
  const until = new Promise<void>((r) => {
    done = r;
  });
  const run = runParity({
    ...c,
    scope: { topics: new Set(topics), streams: new Set(streams), horizon: false },
    mapping: new LaneMapping(GEN1_RULES),
    durationMs: 0,
    settleMs,
    until,
  });
  return Promise.all([run, workload().finally(done)]).then(([result]) => result);
}

const updates = (entries: readonly LegacyEntry[], topic?: string) =>
  entries.flatMap((e) =>
    e.kind === 'update' && (topic === undefined || e.update.topic === topic) ? [e.update] : [],
  );
const events = (entries: readonly CandidateEntry[], stream: string) =>
  entries.flatMap((e) => (e.kind === 'event' && e.event.streamId === stream ? [e.event] : []));

describe('dual-stack parity: a generated workload', () => {
  ownLanes();

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
    const c = collectors(topics, w.streams);
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
    const behind = collectors([NOTES], ['note:0'], {
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

describe('dual-stack parity: injected faults and the CLI', () => {
  ownLanes();

  it('detects and classifies injected faults: a dropped event, a reordered pair, a corrupted payload, a duplicate with a new hash', async () => {
    const ev = (stream: string, seq: bigint, body: string, key = `${stream}#${seq}`) =>
      syncEnvelope(stream, key, body, seq, { authorityTopic: FAULTS });
    const streams = ['f:drop', 'f:order', 'f:corrupt', 'f:dup'];
    const c = collectors([FAULTS], streams);
    const run = await parity(
      c,
      [FAULTS],
      streams,
      async () => {
        // Dropped: the candidate's feed never carries event 2.
        await stack.produce(stack.shared, [ev('f:drop', 1n, '{"v":1}')]);
        await stack.produce(stack.legacyOnly, [ev('f:drop', 2n, '{"v":2}')]);
        await stack.produce(stack.shared, [ev('f:drop', 3n, '{"v":3}')]);
        // Reordered: the legacy lane's feed swaps events 2 and 3.
        const o = [1n, 2n, 3n].map((s) => ev('f:order', s, `{"v":${s}}`));
        await stack.produce(stack.candidateOnly, o);
        await stack.produce(stack.legacyOnly, [o[0]!, o[2]!, o[1]!]);
        // Corrupted: the two feeds carry different bytes for one event.
        await stack.produce(stack.candidateOnly, [ev('f:corrupt', 1n, '{"v":"good"}')]);
        await stack.produce(stack.legacyOnly, [ev('f:corrupt', 1n, '{"v":"bad"}')]);
        // Duplicate with a new hash: a producer re-emits authority event 1 under a new key with new
        // content. Ours skips it (its authority seq is not new); the legacy lane journals it again.
        await stack.produce(stack.shared, [
          ev('f:dup', 1n, '{"v":1}'),
          ev('f:dup', 1n, '{"v":"changed"}', 'f:dup#again'),
        ]);
        await vi.waitFor(
          () => {
            expect(updates(c.legacy.entries, FAULTS)).toHaveLength(3 + 3 + 1 + 2);
            expect(c.candidate.entries.filter((e) => e.kind === 'event')).toHaveLength(2 + 3 + 1 + 1);
          },
          { timeout: 60_000, interval: 100 },
        );
      },
      1_000,
    );
    const found = run.classification.divergences.map((d) => ({
      class: d.class,
      stream: d.streamId,
      version: d.key?.version,
      lane: d.lane,
    }));
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        { class: 'missing', stream: 'f:drop', version: '2', lane: undefined },
        {
          class: 'order_differs',
          stream: 'f:order',
          version: expect.stringMatching(/^[23]$/),
          lane: undefined,
        },
        { class: 'payload_differs', stream: 'f:corrupt', version: '1', lane: undefined },
        { class: 'duplicate', stream: 'f:dup', version: '1', lane: 'legacy' },
      ]),
    );
    expect(run.classification.divergences.find((d) => d.class === 'duplicate')?.detail).toMatch(
      /new payload hash/,
    );
    expect(run.classification.divergences.find((d) => d.class === 'payload_differs')).toMatchObject({
      legacy: { payload: '{"v":"bad"}' },
      candidate: { payload: '{"v":"good"}' },
    });
    expect(run.state).toEqual({ t: 'done', why: 'settle_timeout' });
  }, 120_000);

  it('`spacetime-sync parity` exits 0 on parity, 1 with the first divergence and a JSON report, 3 on a generation-2 endpoint', async () => {
    const CLI = 'parity.cli';
    const dir = await mkdtemp(join(tmpdir(), 'parity-cli-'));
    const legacyTokenFile = join(dir, 'legacy-token');
    const tokenFile = join(dir, 'token');
    await writeFile(legacyTokenFile, stack.legacyToken);
    await writeFile(tokenFile, stack.ownerToken);
    const ev = (stream: string, seq: bigint, body: string) =>
      syncEnvelope(stream, `${stream}#${seq}`, body, seq, { authorityTopic: CLI });
    await stack.produce(stack.shared, [ev('cli:1', 1n, '{"a":1}'), ev('cli:2', 2n, '{"b":2}')]);
    const cli = async (...extra: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
      const progress = vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
      try {
        const code = await main(
          [
            'parity',
            ...[
              '--legacy',
              stack.legacy.url,
              '--candidate',
              stack.candidateUri,
              '--db',
              stack.service.database,
            ],
            ...['--topics', CLI, '--streams', 'cli:1,cli:2', '--duration', '500ms', '--settle', '20s'],
            ...['--legacy-token-file', legacyTokenFile, '--token-file', tokenFile],
            ...extra,
          ],
          { writeOut: (x) => out.push(x), writeErr: (x) => err.push(x) },
        );
        return { code, out: out.join('\n'), err: err.join('') };
      } finally {
        log.mockRestore();
        progress.mockRestore();
      }
    };
    const ok = await cli('--json', join(dir, 'ok.json'));
    expect(ok.out).toMatch(/parity OK: 2 events compared/);
    expect(ok.err).toMatch(/legacy 2 updates .* candidate 2 events/);
    expect(ok.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'ok.json'), 'utf8'))).toMatchObject({ ok: true, compared: 2 });

    // The legacy lane's feed alone carries a different payload for cli:2's next event.
    await stack.produce(stack.candidateOnly, [ev('cli:2', 3n, '{"b":3}')]);
    await stack.produce(stack.legacyOnly, [ev('cli:2', 3n, '{"b":"three"}')]);
    await vi.waitFor(() => expect(stack.legacy.journal.head(CLI)).toBe(3), { timeout: 30_000 });
    const diverged = await cli('--json', join(dir, 'diverged.json'));
    expect(diverged.code).toBe(1);
    expect(diverged.out).toMatch(/parity DIVERGED/);
    expect(diverged.out).toMatch(/first divergence: payload_differs/);
    expect(diverged.out).toContain('payload {"b":"three"}');
    expect(diverged.out).toContain('payload {"b":3}');
    const report = JSON.parse(await readFile(join(dir, 'diverged.json'), 'utf8'));
    expect(report).toMatchObject({
      ok: false,
      counts: { payload_differs: 1 },
      firstDivergence: { class: 'payload_differs' },
    });

    const gen2 = await cli(
      '--legacy',
      `${stack.legacy.url.replace(/\/socket\/websocket$/, '')}/internal/v1/khala/topics/${CLI}/ws`,
    );
    expect(gen2.code).toBe(3);
    expect(gen2.err).toMatch(/generation-2/);
  }, 120_000);

  it('detects a lane restarted from an old snapshot: what it lost and re-numbered never reaches the resuming client', async () => {
    const ev = (seq: bigint) =>
      syncEnvelope('f:snap', `snap#${seq}`, `{"v":${seq}}`, seq, { authorityTopic: SNAPSHOT });
    const c = collectors([SNAPSHOT], ['f:snap']);
    const bothHave = (n: number) =>
      vi.waitFor(
        () => {
          expect(updates(c.legacy.entries, SNAPSHOT)).toHaveLength(n);
          expect(events(c.candidate.entries, 'f:snap')).toHaveLength(n);
        },
        { timeout: 60_000, interval: 100 },
      );
    const run = await parity(
      c,
      [SNAPSHOT],
      ['f:snap'],
      async () => {
        await stack.produce(stack.shared, [ev(1n), ev(2n)]);
        await bothHave(2);
        const snapshot = await stack.snapshotLegacy();
        await stack.produce(stack.shared, [ev(3n), ev(4n)]);
        await bothHave(4);
        await stack.restartLegacy(snapshot); // the journal goes back to watermark 2; Kafka offsets do not
        await stack.produce(stack.shared, [ev(5n), ev(6n)]);
        await vi.waitFor(() => expect(stack.legacy.journal.head(SNAPSHOT)).toBe(4), { timeout: 60_000 });
        await vi.waitFor(() => expect(events(c.candidate.entries, 'f:snap')).toHaveLength(6), {
          timeout: 60_000,
        });
      },
      1_000,
    );
    expect(run.classification.divergences.map((d) => [d.class, d.key?.version])).toEqual([
      ['extra', '5'],
      ['extra', '6'],
    ]);
  }, 120_000);
});

describe('shadow mode in the running service', () => {
  beforeAll(async () => {
    stack = await DualStack.start(SERVED, { shadow: { sampleRate: 1, graceMs: 1_000, tickMs: 200 } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const metric = async (name: string, labels = '') => {
    const text = await (await fetch(`${stack.service.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ').pop()) : Number.NaN;
  };

  it('exports compared events, time to parity and mismatches by class', async () => {
    const SHADOW = 'parity.shadow';
    const ev = (stream: string, seq: bigint) =>
      syncEnvelope(stream, `${stream}#${seq}`, `{"n":${seq}}`, seq, { authorityTopic: SHADOW });
    // Streams created after the service started: the shadow picks them up at its next tick.
    await stack.produce(stack.shared, [ev('sh:1', 1n), ev('sh:2', 2n), ev('sh:1', 3n), ev('sh:3', 4n)]);
    await vi.waitFor(async () => expect(await metric('spacetime_sync_parity_compared_total')).toBe(4), {
      timeout: 60_000,
      interval: 200,
    });
    expect(await metric('spacetime_sync_parity_time_to_parity_seconds_count')).toBe(4);
    for (const c of ['missing', 'extra', 'payload_differs', 'order_differs', 'duplicate'])
      expect(await metric('spacetime_sync_parity_mismatch_total', `class="${c}"`)).toBe(0);
    // One event only the legacy lane's feed carries: missing, once the grace window has passed.
    await stack.produce(stack.legacyOnly, [ev('sh:2', 5n)]);
    await vi.waitFor(
      async () => expect(await metric('spacetime_sync_parity_mismatch_total', 'class="missing"')).toBe(1),
      { timeout: 60_000, interval: 200 },
    );
    expect(await metric('spacetime_sync_parity_compared_total')).toBe(4);
    expect(await metric('spacetime_sync_parity_shadow_connected', 'lane="legacy"')).toBe(1);
  }, 120_000);
});
