/**
 * The per-publisher sequencer as pure logic: whatever order a publisher's pipelined requests arrive
 * in, they start in the order the publisher numbered them; early ones wait a bounded time and count,
 * then are refused with a typed, retryable error naming the seq expected; repeats answer the original.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError, unavailable } from '../../shared/errors/sync-error.js';
import { PublisherSequencer } from './publisher-sequencer.js';

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Set<() => void>();
  return {
    setTimer: (fn: () => void) => {
      pending.add(fn);
      return fn;
    },
    clearTimer: (t: unknown) => pending.delete(t as () => void),
    fireAll: () => {
      for (const fn of [...pending]) {
        pending.delete(fn);
        fn();
      }
    },
    get count() {
      return pending.size;
    },
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('PublisherSequencer', () => {
  it('any arrival order of N pipelined requests (with repeats) starts them as sequential sending would', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              Array.from({ length: n }, (_, i) => i + 1),
              { minLength: n, maxLength: n },
            ),
            fc.array(fc.integer({ min: 1, max: n }), { maxLength: 10 }),
            fc.array(fc.boolean(), { minLength: 50, maxLength: 50 }),
          ),
        ),
        async ([n, order, repeats, gaps]) => {
          const timers = manualTimers();
          const seq = new PublisherSequencer<number>(timers);
          const stream: number[] = [];
          const answers: Promise<number>[] = [];
          const arrivals = [...order, ...repeats];
          for (const [i, s] of arrivals.entries()) {
            answers.push(
              seq.submit('pub', BigInt(s), () => {
                stream.push(s);
                return Promise.resolve(s);
              }),
            );
            if (gaps[i % gaps.length]) await flush();
          }
          const expected = Array.from({ length: n }, (_, i) => i + 1);
          expect(stream).toEqual(expected);
          expect(await Promise.all(answers)).toEqual(arrivals);
          expect(seq.held).toBe(0);
          expect(timers.count).toBe(0);
          expect(seq.expected('pub')).toBe(BigInt(n + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps order when starts are refused at once or a dropped link fails them, once the publisher retries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 25 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              Array.from({ length: n }, (_, i) => i + 1),
              { minLength: n, maxLength: n },
            ),
            fc.uniqueArray(fc.integer({ min: 1, max: n }), { maxLength: 4 }),
            fc.boolean(),
          ),
        ),
        async ([n, order, flaky, atOnce]) => {
          const timers = manualTimers();
          const seq = new PublisherSequencer<number>(timers);
          const stream: number[] = [];
          const failedOnce = new Set<number>();
          // The writer's one connection: started calls run in start order; a drop fails the call it
          // hit and every call after it (none of them ran), as SpacetimeDB's per-connection queue does.
          let inFlight: { s: number; ok: (v: number) => void; fail: (e: unknown) => void }[] = [];
          const start = (s: number) => () => {
            if (atOnce && flaky.includes(s) && !failedOnce.has(s)) {
              failedOnce.add(s);
              throw unavailable('spacetimedb', 'ingest queue full'); // not started at all
            }
            return new Promise<number>((ok, fail) => inFlight.push({ s, ok, fail }));
          };
          const runWriter = () => {
            const calls = inFlight;
            inFlight = [];
            for (const [i, c] of calls.entries()) {
              if (!atOnce && flaky.includes(c.s) && !failedOnce.has(c.s)) {
                failedOnce.add(c.s);
                for (const rest of calls.slice(i)) rest.fail(unavailable('spacetimedb', 'connection lost'));
                return;
              }
              stream.push(c.s);
              c.ok(c.s);
            }
          };
          // The publisher sends everything, then retries whatever failed or was refused, until done.
          let outstanding = order;
          for (let round = 0; outstanding.length > 0 && round < 20; round++) {
            const outcomes = outstanding.map((s) =>
              seq.submit('p', BigInt(s), start(s)).then(
                () => undefined,
                (e: unknown) => {
                  expect(isSyncError(e) && e.retryable).toBe(true);
                  return s;
                },
              ),
            );
            await flush();
            runWriter();
            await flush();
            timers.fireAll();
            outstanding = (await Promise.all(outcomes)).filter((s): s is number => s !== undefined);
            outstanding.sort((a, b) => a - b);
          }
          expect(outstanding).toEqual([]);
          expect(stream).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a request whose predecessor does not come within the hold, naming the seq expected', async () => {
    const timers = manualTimers();
    const seq = new PublisherSequencer<string>({ ...timers, holdMs: 500 });
    let started = 0;
    const early = seq.submit('pub-a', 3n, () => {
      started += 1;
      return Promise.resolve('x');
    });
    expect(seq.held).toBe(1);
    timers.fireAll();
    const err = await early.catch((e: unknown) => e);
    expect(isSyncError(err, 'out_of_order_sequence')).toBe(true);
    expect(isSyncError(err, 'out_of_order_sequence') && err.retryable).toBe(true);
    expect(isSyncError(err, 'out_of_order_sequence') && err.detail).toMatchObject({
      publisherId: 'pub-a',
      expectedSeq: 1n,
      offeredSeq: 3n,
    });
    expect(started).toBe(0);
    expect(seq.held).toBe(0);
  });

  it('refuses an early request at once when the hold is full, and another publisher is not held up', async () => {
    const timers = manualTimers();
    const seq = new PublisherSequencer<string>({ ...timers, maxHeld: 1 });
    const ok = () => Promise.resolve('ok');
    void seq.submit('a', 2n, ok).catch(() => {});
    const refused = await seq.submit('a', 3n, ok).catch((e: unknown) => e);
    expect(isSyncError(refused, 'out_of_order_sequence')).toBe(true);
    expect(await seq.submit('b', 1n, ok)).toBe('ok');
    timers.fireAll();
  });

  it('answers a repeated seq with the outcome of its first copy without starting it again', async () => {
    const seq = new PublisherSequencer<number>();
    let starts = 0;
    const start = () => Promise.resolve(++starts);
    expect(await seq.submit('p', 1n, start)).toBe(1);
    expect(await seq.submit('p', 1n, start)).toBe(1);
    expect(starts).toBe(1);
  });
});
