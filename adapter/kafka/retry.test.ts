import { describe, expect, it } from 'vitest';
import { SyncError, unavailable } from '../../shared/errors/sync-error.js';
import { refused, withRetry } from './retry.js';

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
});
