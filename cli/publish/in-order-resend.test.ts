import { describe, expect, it } from 'vitest';
import { PredecessorFailedError, sendInOrder } from './in-order-resend.js';

class OutOfOrder extends Error {}
const isOutOfOrder = (e: unknown) => e instanceof OutOfOrder;

/** A promise settled by the test: the predecessor call still waiting for its answer. */
function pending<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A service whose cursor is at `applied`: a call numbered `seq` lands only right after it. */
function service() {
  const state = { applied: 0, calls: [] as number[] };
  const call = (seq: number) => async () => {
    state.calls.push(seq);
    if (seq !== state.applied + 1) throw new OutOfOrder(`seq ${seq} ahead of ${state.applied + 1}`);
    state.applied = seq;
    return seq;
  };
  return { state, call };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('sendInOrder: a pipelined call refused out of order', () => {
  it('is sent again only once its predecessor has answered, however long that takes', async () => {
    const svc = service();
    const slowFirst = pending<number>();
    const second = sendInOrder(svc.call(2), slowFirst.promise, isOutOfOrder);
    for (let i = 0; i < 20; i++) await settle();
    // The predecessor is still on its way: one attempt, refused, and no burst of resends meanwhile.
    expect(svc.state.calls).toEqual([2]);
    await svc.call(1)();
    slowFirst.resolve(1);
    await expect(second).resolves.toBe(2);
    expect(svc.state.calls).toEqual([2, 1, 2]);
  });

  it('fails, naming the cause, when its predecessor failed (the service would refuse it forever)', async () => {
    const svc = service();
    const failedFirst = Promise.reject(new Error('conflict on seq 1'));
    failedFirst.catch(() => {});
    const second = sendInOrder(svc.call(2), failedFirst, isOutOfOrder);
    await expect(second).rejects.toBeInstanceOf(PredecessorFailedError);
    await expect(second).rejects.toThrow(/the call before it failed \(conflict on seq 1\)/);
    expect(svc.state.calls).toEqual([2]);
  });

  it('chains: calls answered in reverse arrival order all land, each once, in call order', async () => {
    const svc = service();
    const gate = pending<void>();
    // Calls 3 and 2 reach the service first; call 1 only after the gate opens.
    const first = gate.promise.then(() => sendInOrder(svc.call(1), undefined, isOutOfOrder));
    const second = sendInOrder(svc.call(2), first, isOutOfOrder);
    const third = sendInOrder(svc.call(3), second, isOutOfOrder);
    for (let i = 0; i < 20; i++) await settle();
    expect(svc.state.applied).toBe(0);
    gate.resolve();
    await expect(Promise.all([first, second, third])).resolves.toEqual([1, 2, 3]);
    expect(svc.state.calls.filter((s) => s === 1)).toHaveLength(1);
    expect(svc.state.applied).toBe(3);
  });

  it('passes any other refusal through untouched, without resending', async () => {
    let calls = 0;
    const refused = new Error('invalid envelope');
    const attempt = async () => {
      calls++;
      throw refused;
    };
    await expect(sendInOrder(attempt, Promise.resolve(), isOutOfOrder)).rejects.toBe(refused);
    expect(calls).toBe(1);
  });
});
