/** The writer's window of calls in flight: start order, the bound, failing what is in flight, idle. */
import { describe, expect, it } from 'vitest';
import { CallWindow } from './call-window.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('CallWindow', () => {
  it('starts calls in submission order, never more than max at once', async () => {
    const w = new CallWindow(3);
    const started: number[] = [];
    const gates = Array.from({ length: 8 }, () => deferred<number>());
    const results = gates.map((g, i) =>
      w.run(() => {
        started.push(i);
        return g.promise;
      }),
    );
    expect(started).toEqual([0, 1, 2]);
    expect(w.inFlight).toBe(3);
    gates[1]?.resolve(1);
    await results[1];
    await expect.poll(() => started).toEqual([0, 1, 2, 3]);
    for (const [i, g] of gates.entries()) g.resolve(i);
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await w.idle();
    expect(w.inFlight).toBe(0);
  });

  it('fails every started call at once on failInFlight, then starts the waiting ones', async () => {
    const w = new CallWindow(2);
    const started: number[] = [];
    const startNo =
      <T>(i: number, answer: Promise<T>) =>
      () => {
        started.push(i);
        return answer;
      };
    const never = new Promise<never>(() => {});
    const a = w.run(startNo(0, never));
    const b = w.run(startNo(1, never));
    const c = w.run(startNo(2, Promise.resolve('c')));
    w.failInFlight(new Error('socket lost'));
    await expect(a).rejects.toThrow('socket lost');
    await expect(b).rejects.toThrow('socket lost');
    expect(await c).toBe('c');
    expect(started).toEqual([0, 1, 2]);
    await w.idle();
  });

  it('a call whose start throws fails alone and frees its place', async () => {
    const w = new CallWindow(1);
    const bad = w.run(() => {
      throw new Error('no connection');
    });
    const good = w.run(() => Promise.resolve(7));
    await expect(bad).rejects.toThrow('no connection');
    expect(await good).toBe(7);
  });

  it('refuses a window below one', () => {
    expect(() => new CallWindow(0)).toThrow(RangeError);
  });
});
