/**
 * The batch loop over three shards, through its ports: each shard an in-memory sink with its own
 * cursors (as each shard database holds its own), a partition log replayed the way kafkajs fetches
 * it (a seek moves the fetch position). What is asserted: every event reaches its shard exactly
 * once and in order, while a shard is down the others keep applying, and a shard back up gets what
 * it missed through a re-read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unavailable } from '../../shared/errors/sync-error.js';
import { createAdapterMetrics } from '../metrics.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetricsRegistry } from '../telemetry/metrics.js';
import { BatchLoop, type BatchPayload } from './batch-loop.js';
import { InFlightGate } from './in-flight-gate.js';
import type { ShardSinks } from './shard-sinks.js';
import { GROUP, good, MemoryDeadLetters, MemorySink, TOPIC } from './testing/batch-fixture.js';

const SHARDS = ['a', 'b', 'c'] as const;

/** Streams `a:…`, `b:…`, `c:…` route to shards a, b, c: the test picks each event's shard. */
function setup(o: { callsInFlight?: number; maxBatch?: number; answerLater?: boolean } = {}) {
  const sinks = new Map(SHARDS.map((s) => [s, new MemorySink()]));
  for (const sink of sinks.values()) sink.answerLater = o.answerLater ?? false;
  const up = new Map<string, boolean>(SHARDS.map((s) => [s, true]));
  /** A shard that goes down in the middle of a batch: after this many more append calls. */
  const dropAfter = new Map<string, number>();
  for (const [name, sink] of sinks) {
    sink.refuse = () => {
      let left = dropAfter.get(name);
      if (left !== undefined && left-- <= 0) {
        up.set(name, false);
        dropAfter.delete(name);
      } else if (left !== undefined) dropAfter.set(name, left);
      return up.get(name) ? undefined : unavailable('spacetimedb', `shard ${name} down`);
    };
  }
  const shards: ShardSinks = {
    names: SHARDS,
    route: (stream) => stream.split(':')[0] as string,
    sink: (s) => sinks.get(s as 'a') as MemorySink,
    up: (s) => up.get(s) === true,
  };
  const deadLetters = new MemoryDeadLetters();
  const newLoop = () =>
    new BatchLoop({
      shards,
      deadLetters,
      groupId: GROUP,
      maxBatch: o.maxBatch ?? 3,
      ...(o.callsInFlight !== undefined ? { callsInFlight: o.callsInFlight } : {}),
      metrics: createAdapterMetrics(createMetricsRegistry({ defaultMetrics: false })),
      logger: createLogger({ level: 'silent' }),
      stopping: () => false,
      progressed: () => {},
      sleep: async () => {},
    });
  let loop = newLoop();
  const gate = new InFlightGate(10_000, 5_000, () => {});
  /** The partition log: message i is event `k<i>` of stream `<shard>:1`. */
  const log: Buffer[] = [];
  const shardOf: string[] = [];
  const append = (shard: string) => {
    const i = log.length;
    log.push(good(`k${i}`, i + 1, `${shard}:1`));
    shardOf.push(shard);
  };
  let position = 0;
  const commits: bigint[] = [];
  /** Fetches up to `size` messages at the fetch position and runs them, as kafkajs would. */
  const fetch = async (size: number) => {
    const first = position;
    const values = log.slice(first, first + size);
    if (values.length === 0) return;
    let sought: number | undefined;
    const payload: BatchPayload = {
      batch: {
        topic: TOPIC,
        partition: 0,
        highWatermark: String(log.length),
        messages: values.map((value, i) => ({ key: null, value, offset: String(first + i) })),
      },
      resolveOffset: () => {},
      heartbeat: async () => {},
      isRunning: () => true,
      isStale: () => sought !== undefined,
    };
    await t_loop().run(
      payload,
      gate,
      async (_t, _p, next) => {
        commits.push(next);
      },
      (_t, _p, offset) => {
        sought = Number(offset);
      },
    );
    position = sought ?? first + values.length;
  };
  /** What each shard should hold: its events in log order. */
  const expected = (shard: string) => log.flatMap((_, i) => (shardOf[i] === shard ? [`k${i}`] : []));
  const seekTo = (offset: number) => {
    position = offset;
  };
  function t_loop() {
    return loop;
  }
  /** kill -9 and a new consumer: the loop's memory is gone; it resumes where the shards say. */
  const restart = () => {
    loop = newLoop();
    loop.rebalanced();
    const at = loop.startAt(TOPIC, 0);
    position = Number(at ?? commits.at(-1) ?? 0n);
  };
  return {
    sinks,
    up,
    dropAfter,
    deadLetters,
    get loop() {
      return loop;
    },
    append,
    fetch,
    seekTo,
    restart,
    expected,
    commits,
    position: () => position,
  };
}

describe('batch loop over shards', () => {
  it('routes each event to its shard and moves every shard’s cursor past the whole batch', async () => {
    const t = setup();
    for (const s of ['a', 'b', 'a', 'a', 'a', 'b']) t.append(s);
    await t.fetch(10);
    expect(t.sinks.get('a')?.events).toEqual(['k0', 'k2', 'k3', 'k4']);
    expect(t.sinks.get('b')?.events).toEqual(['k1', 'k5']);
    expect(t.sinks.get('c')?.events).toEqual([]);
    // Shard c had nothing in the batch; its cursor moves all the same, so a restart skips it all.
    for (const s of SHARDS) expect(t.sinks.get(s)?.cursor(GROUP, TOPIC, 0)).toBe(6n);
    expect(t.commits).toEqual([6n]);
  });

  it('a shard down holds back only its own events; back up, a re-read gives it them once', async () => {
    const t = setup();
    for (const s of ['a', 'b', 'c', 'a', 'b', 'c']) t.append(s);
    t.up.set('b', false);
    await t.fetch(3);
    await t.fetch(3);
    // a and c applied everything, b nothing; Kafka's offset stays where b must resume.
    expect(t.sinks.get('a')?.events).toEqual(['k0', 'k3']);
    expect(t.sinks.get('c')?.events).toEqual(['k2', 'k5']);
    expect(t.sinks.get('b')?.events).toEqual([]);
    expect(t.commits.at(-1)).toBe(1n);
    for (const s of ['a', 'b', 'c', 'b']) t.append(s);
    t.up.set('b', true);
    await t.fetch(3); // sees b up: seeks back to offset 1 and applies nothing
    expect(t.position()).toBe(1);
    while (t.position() < 10) await t.fetch(3);
    for (const s of SHARDS) expect(t.sinks.get(s)?.events).toEqual(t.expected(s));
    expect(t.commits.at(-1)).toBe(10n);
  });

  it('a shard whose cursor is behind where the partition resumes (down at assignment) catches up', async () => {
    const t = setup();
    for (const s of ['a', 'b', 'c', 'a', 'b', 'c']) t.append(s);
    // As after a restart: a and c hold everything below 6, b only below 2.
    for (const [s, c] of [
      ['a', 6n],
      ['b', 2n],
      ['c', 6n],
    ] as const)
      t.sinks.get(s)?.cursors.set(`${TOPIC}/0`, c);
    t.sinks.get('b')?.events.push('k1');
    t.append('a');
    // A consumer that was placed at 6 (b's cursor unknown then): b lags and is sought back to 2.
    t.loop.rebalanced();
    t.loop.sought(TOPIC, 0, 6n);
    await fetchFrom(t, 6);
    expect(t.sinks.get('b')?.events).toEqual(['k1']);
    expect(t.sinks.get('a')?.events).toEqual(['k6']);
    // The partition is quiet now: the source's timer asks and seeks back to b's cursor.
    expect(t.loop.recoveries()).toEqual([{ topic: TOPIC, partition: 0, offset: 2n }]);
    await fetchFrom(t, 2);
    while (t.position() < 7) await t.fetch(2);
    expect(t.sinks.get('b')?.events).toEqual(['k1', 'k4']);
    expect(t.sinks.get('a')?.events).toEqual(['k6']);
  });

  it('any schedule of outages (between and during batches), restarts, batch sizes and calls in flight: each shard gets each of its events exactly once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          callsInFlight: fc.integer({ min: 1, max: 4 }),
          maxBatch: fc.integer({ min: 1, max: 3 }),
          answerLater: fc.boolean(),
        }),
        fc.array(fc.constantFrom(...SHARDS), { minLength: 1, maxLength: 40 }),
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 7 }),
            down: fc.subarray([...SHARDS]),
            more: fc.nat(3),
            drop: fc.option(fc.record({ shard: fc.constantFrom(...SHARDS), after: fc.nat(2) })),
            restart: fc.boolean(),
          }),
          { maxLength: 25 },
        ),
        async (options, initial, steps) => {
          const t = setup(options);
          for (const s of initial) t.append(s);
          let next = 0;
          for (const step of steps) {
            for (const s of SHARDS) t.up.set(s, !step.down.includes(s));
            for (let i = 0; i < step.more; i++) t.append(SHARDS[next++ % 3] as string);
            if (step.drop) t.dropAfter.set(step.drop.shard, step.drop.after);
            if (step.restart) t.restart();
            await t.fetch(step.size);
            t.dropAfter.clear();
          }
          for (const s of SHARDS) t.up.set(s, true);
          // Everything up: fetch until the log is read and no shard waits for a re-read.
          for (
            let i = 0;
            i < 500 && (t.position() < initial.length + next || t.loop.recoveries().length > 0);
            i++
          ) {
            const r = t.loop.recoveries()[0];
            if (r && t.position() >= initial.length + next) await fetchFrom(t, Number(r.offset));
            else await t.fetch(5);
          }
          for (const s of SHARDS) expect(t.sinks.get(s)?.events).toEqual(t.expected(s));
          expect(t.deadLetters.records).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** A seek the source makes on its timer for a quiet partition: the next fetch starts at `offset`. */
async function fetchFrom(t: ReturnType<typeof setup>, offset: number): Promise<void> {
  t.loop.sought(TOPIC, 0, BigInt(offset));
  t.seekTo(offset);
  await t.fetch(3);
}
