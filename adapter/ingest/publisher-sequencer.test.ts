/**
 * The per-publisher sequencer as pure logic, against a model of the module's publisher cursor
 * (append_publisher_events: applies seq = last + 1, answers a seq ≤ last as a repeat, refuses one
 * beyond with the expected seq): whatever order a publisher's pipelined requests arrive in, and
 * whatever the module already holds (a restarted service knows nothing), they are applied in the
 * order the publisher numbered them; early ones wait a bounded time and count, then are refused with
 * a typed, retryable error naming the seq expected; repeats answer the original.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSyncError, type SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { outOfOrder, PublisherSequencer } from './publisher-sequencer.js';

/** The module's cursor for one publisher: what it applies, in the order calls reach it. */
function moduleCursor(id: string, last = 0) {
  const applied: number[] = [];
  return {
    applied,
    get last() {
      return last;
    },
    /** One call reaching the module: applied, a repeat, or refused as ahead (nothing applied). */
    run(s: number): SyncError | 'appended' | 'duplicate' {
      if (s === last + 1) {
        last = s;
        applied.push(s);
        return 'appended';
      }
      if (s <= last) return 'duplicate';
      return outOfOrder(id, BigInt(last + 1), BigInt(s), 'arrived before its predecessor was applied');
    },
  };
}

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
          const module = moduleCursor('pub');
          const answers: Promise<number>[] = [];
          const arrivals = [...order, ...repeats];
          for (const [i, s] of arrivals.entries()) {
            answers.push(
              seq.submit('pub', BigInt(s), () => {
                const out = module.run(s);
                return typeof out === 'string' ? Promise.resolve(s) : Promise.reject(out);
              }),
            );
            if (gaps[i % gaps.length]) await flush();
          }
          const expected = Array.from({ length: n }, (_, i) => i + 1);
          expect(await Promise.all(answers)).toEqual(arrivals);
          expect(module.applied).toEqual(expected);
          expect(seq.held).toBe(0);
          expect(timers.count).toBe(0);
          expect(seq.expected('pub')).toBe(BigInt(n + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('applies in order when starts are refused at once, a dropped link fails them, or one call fails alone at the module while later ones are in flight — also after a restart — once the publisher retries', async () => {
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
            fc.constantFrom('at_once', 'drop', 'alone'),
            // What the module already applied before this (restarted) service saw the publisher.
            fc.integer({ min: 0, max: 1_000 }),
          ),
        ),
        async ([n, order, flaky, mode, base]) => {
          const timers = manualTimers();
          const seq = new PublisherSequencer<number>(timers);
          const module = moduleCursor('p', base);
          const failedOnce = new Set<number>();
          // The writer's one connection: started calls reach the module in start order. A drop fails
          // the call it hit and every call after it (none of them ran); a call failing alone (a
          // transient module error) leaves the ones after it to reach the module.
          let inFlight: { s: number; ok: (v: number) => void; fail: (e: unknown) => void }[] = [];
          const start = (s: number) => () => {
            if (mode === 'at_once' && flaky.includes(s - base) && !failedOnce.has(s)) {
              failedOnce.add(s);
              throw unavailable('spacetimedb', 'ingest queue full'); // not started at all
            }
            return new Promise<number>((ok, fail) => inFlight.push({ s, ok, fail }));
          };
          const runWriter = () => {
            const calls = inFlight;
            inFlight = [];
            for (const [i, c] of calls.entries()) {
              if (mode !== 'at_once' && flaky.includes(c.s - base) && !failedOnce.has(c.s)) {
                failedOnce.add(c.s);
                if (mode === 'alone') {
                  c.fail(unavailable('spacetimedb', 'the module failed this call'));
                  continue;
                }
                for (const rest of calls.slice(i)) rest.fail(unavailable('spacetimedb', 'connection lost'));
                return;
              }
              const out = module.run(c.s);
              if (typeof out === 'string') c.ok(c.s);
              else c.fail(out);
            }
          };
          // The publisher sends everything, then retries whatever failed or was refused, until done.
          let outstanding = order.map((s) => s + base);
          for (let round = 0; outstanding.length > 0 && round < 30; round++) {
            const outcomes = outstanding.map((s) =>
              seq.submit('p', BigInt(s), start(s)).then(
                () => undefined,
                (e: unknown) => {
                  expect(isSyncError(e) && e.retryable).toBe(true);
                  return s;
                },
              ),
            );
            // Calls the module sent back to wait start again as their predecessors commit.
            for (let k = 0; k < 100; k++) {
              await flush();
              if (inFlight.length === 0) break;
              runWriter();
            }
            timers.fireAll();
            outstanding = (await Promise.all(outcomes)).filter((s): s is number => s !== undefined);
            outstanding.sort((a, b) => a - b);
          }
          expect(outstanding).toEqual([]);
          expect(module.applied).toEqual(Array.from({ length: n }, (_, i) => base + i + 1));
          expect(seq.held).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a restarted service continues a publisher from the module cursor: its next seq is applied, one ahead is held for it, then applied in order', async () => {
    const timers = manualTimers();
    const seq = new PublisherSequencer<string>(timers);
    const module = moduleCursor('pub', 41);
    const send = (s: number) => () => {
      const out = module.run(s);
      return typeof out === 'string' ? Promise.resolve(out) : Promise.reject(out);
    };
    // 43 arrives first: the module names 42 as expected, so it waits for 42 here (nothing applied).
    const early = seq.submit('pub', 43n, send(43));
    await flush();
    expect(module.applied).toEqual([]);
    expect(seq.held).toBe(1);
    expect(seq.expected('pub')).toBe(42n);
    expect(await seq.submit('pub', 42n, send(42))).toBe('appended');
    expect(await early).toBe('appended');
    expect(module.applied).toEqual([42, 43]);
    // A repeat of an applied seq the service no longer remembers: the module answers duplicates.
    const fresh = new PublisherSequencer<string>(timers);
    expect(await fresh.submit('pub', 40n, send(40))).toBe('duplicate');
    expect(timers.count).toBe(0);
  });

  it('forgets the least recently seen publisher past the bound and re-learns its cursor from the module', async () => {
    const seq = new PublisherSequencer<string>({ maxPublishers: 2 });
    const modules = new Map(['a', 'b', 'c'].map((id) => [id, moduleCursor(id)]));
    const send = (id: string, s: number) => () => {
      const out = modules.get(id)?.run(s) ?? 'missing';
      return typeof out === 'string' ? Promise.resolve(out) : Promise.reject(out);
    };
    for (const id of ['a', 'b', 'c']) expect(await seq.submit(id, 1n, send(id, 1))).toBe('appended');
    expect(seq.publisherCount).toBe(2);
    expect(seq.expected('a')).toBe(1n); // forgotten
    expect(await seq.submit('a', 2n, send('a', 2))).toBe('appended');
    expect(modules.get('a')?.applied).toEqual([1, 2]);
  });

  it('past the bound forgets only an idle publisher: one with a request held or a probe in flight stays', async () => {
    const timers = manualTimers();
    const seq = new PublisherSequencer<string>({ ...timers, maxPublishers: 2 });
    const modules = new Map(['a', 'b', 'c', 'd'].map((id) => [id, moduleCursor(id)]));
    const send = (id: string, s: number) => () => {
      const out = modules.get(id)?.run(s) ?? 'missing';
      return typeof out === 'string' ? Promise.resolve(out) : Promise.reject(out);
    };
    expect(await seq.submit('a', 1n, send('a', 1))).toBe('appended');
    const a3 = seq.submit('a', 3n, send('a', 3)); // held for a's seq 2
    expect(await seq.submit('b', 1n, send('b', 1))).toBe('appended');
    // c is new: a is the least recently seen but waits with a held request, so b goes.
    let answerProbe!: () => void;
    const c1 = seq.submit(
      'c',
      1n,
      () => new Promise<string>((ok) => (answerProbe = () => ok(modules.get('c')?.run(1) as string))),
    );
    expect(seq.expected('b')).toBe(1n);
    expect(seq.expected('a')).toBe(2n);
    // d is new: a still holds a request and c's probe is in flight, so neither is forgotten.
    expect(await seq.submit('d', 1n, send('d', 1))).toBe('appended');
    expect(seq.expected('a')).toBe(2n);
    answerProbe();
    expect(await c1).toBe('appended');
    expect(seq.expected('c')).toBe(2n);
    // a's held request goes on once its predecessor arrives, in order.
    expect(await seq.submit('a', 2n, send('a', 2))).toBe('appended');
    expect(await a3).toBe('appended');
    expect(modules.get('a')?.applied).toEqual([1, 2, 3]);
    expect(timers.count).toBe(0);
  });

  it('refuses a request whose predecessor does not come within the hold, naming the seq expected', async () => {
    const timers = manualTimers();
    const seq = new PublisherSequencer<string>({ ...timers, holdMs: 500 });
    expect(await seq.submit('pub-a', 1n, () => Promise.resolve('first'))).toBe('first');
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
      expectedSeq: 2n,
      offeredSeq: 3n,
    });
    expect(started).toBe(0);
    expect(seq.held).toBe(0);
  });

  it('refuses an early request at once when the hold is full, and another publisher is not held up', async () => {
    const timers = manualTimers();
    const seq = new PublisherSequencer<string>({ ...timers, maxHeld: 1 });
    const ok = () => Promise.resolve('ok');
    expect(await seq.submit('a', 1n, ok)).toBe('ok');
    void seq.submit('a', 3n, ok).catch(() => {});
    const refused = await seq.submit('a', 4n, ok).catch((e: unknown) => e);
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
