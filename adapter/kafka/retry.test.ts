import { describe, expect, it } from 'vitest';
import { SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { reducerError } from '../spacetime/writer.js';
import { DEFAULT_MAX_UNEXPLAINED, refused, withRetry } from './retry.js';

/** A call that fails with `failures` in order, then answers 'ok'. */
function flaky(...failures: unknown[]) {
  let calls = 0;
  return {
    fn: async () => {
      const f = failures[calls++];
      if (f !== undefined) throw f;
      return 'ok';
    },
    calls: () => calls,
  };
}

const ports = (live = () => true) => {
  const seen: [string, number | undefined][] = [];
  return {
    seen,
    ports: {
      live,
      between: async () => {},
      onFailure: (e: SyncError, retryInMs: number | undefined) => seen.push([e.reason, retryInMs]),
      sleep: async () => {},
    },
  };
};

describe('withRetry (the Kafka path)', () => {
  it('repeats what SpacetimeDB failed to answer until it succeeds, without skipping the call', async () => {
    const call = flaky(unavailable('spacetimedb', 'down'), new Error('socket hang up'));
    const { seen, ports: p } = ports();
    expect(await withRetry(call.fn, p)).toBe('ok');
    expect(call.calls()).toBe(3);
    expect(seen.map(([reason, delay]) => [reason, typeof delay])).toEqual([
      ['unavailable', 'number'],
      ['unavailable', 'number'],
    ]);
  });

  it('throws what the envelope caused at once, as a SyncError to dead-letter', async () => {
    const call = flaky(new SyncError('conflict', 'key reused'));
    const { seen, ports: p } = ports();
    const err = await withRetry(call.fn, p).catch((e: unknown) => e);
    expect(refused(err)).toBe(true);
    expect([call.calls(), seen]).toEqual([1, [['conflict', undefined]]]);
  });

  it('gives a retryable failure back once the batch is no longer live', async () => {
    const call = flaky(unavailable('spacetimedb', 'down'));
    const { ports: p } = ports(() => false);
    const err = await withRetry(call.fn, p).catch((e: unknown) => e);
    expect([refused(err), (err as SyncError).reason, call.calls()]).toEqual([false, 'unavailable', 1]);
  });

  it('gives up on a failure without a module reason after a bounded number of attempts, to dead-letter it with the reason', async () => {
    const crash = () => reducerError(new Error('The instance encountered a fatal error.'));
    const call = flaky(...Array.from({ length: 50 }, crash));
    const { seen, ports: p } = ports();
    const err = await withRetry(call.fn, p).catch((e: unknown) => e);
    expect(call.calls()).toBe(DEFAULT_MAX_UNEXPLAINED);
    expect(refused(err)).toBe(true);
    expect((err as SyncError).reason).toBe('unavailable');
    expect((err as SyncError).message).toBe(
      `SpacetimeDB failed the call ${DEFAULT_MAX_UNEXPLAINED} times without a module reason; giving up on it: The instance encountered a fatal error.`,
    );
    expect(seen.at(-1)).toEqual(['unavailable', undefined]);
  });

  it('the bound is configurable, and a call that recovers within it is not given up', async () => {
    const crash = () => reducerError(new Error('no such reducer'));
    const recovers = flaky(crash(), crash());
    expect(await withRetry(recovers.fn, { ...ports().ports, maxUnexplained: 3 })).toBe('ok');
    const never = flaky(crash(), crash(), crash(), crash());
    const err = await withRetry(never.fn, { ...ports().ports, maxUnexplained: 2 }).catch((e: unknown) => e);
    expect([refused(err), never.calls()]).toEqual([true, 2]);
  });

  it('keeps retrying without bound while SpacetimeDB is unreachable or says it cannot commit (e.g. a full disk)', async () => {
    const down = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? unavailable('spacetimedb', 'not connected to SpacetimeDB')
        : reducerError(new Error('the database cannot commit: the commit log cannot grow (ENOSPC)')),
    );
    const call = flaky(...down);
    expect(await withRetry(call.fn, { ...ports().ports, maxUnexplained: 2 })).toBe('ok');
    expect(call.calls()).toBe(21);
  });
});
