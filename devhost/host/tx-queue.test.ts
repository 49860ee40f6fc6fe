import { describe, expect, it } from 'vitest';
import { TxQueue } from './tx-queue.js';

describe('TxQueue', () => {
  it('runs tasks one at a time in submission order, async ones included', async () => {
    const queue = new TxQueue();
    const log: string[] = [];
    const task = (name: string, ticks: number) => async () => {
      log.push(`${name}:start`);
      for (let i = 0; i < ticks; i++) await new Promise((r) => setImmediate(r));
      log.push(`${name}:end`);
      return name;
    };
    const results = await Promise.all([
      queue.run(task('a', 3)),
      queue.run(task('b', 0)),
      queue.run(task('c', 1)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it("lets a caller's continuation run before the next task starts", async () => {
    const queue = new TxQueue();
    const log: string[] = [];
    const first = queue.run(() => log.push('tx1')).then(() => log.push('caller of tx1 continues'));
    const second = queue.run(() => log.push('tx2'));
    await Promise.all([first, second]);
    expect(log).toEqual(['tx1', 'caller of tx1 continues', 'tx2']);
  });

  it('fails only the failing task; later tasks still run, and drained() waits for all', async () => {
    const queue = new TxQueue();
    const ran: number[] = [];
    const failing = queue.run(() => {
      throw new Error('reducer blew up');
    });
    void queue.run(() => ran.push(2));
    await expect(failing).rejects.toThrow('reducer blew up');
    await queue.drained();
    expect(ran).toEqual([2]);
  });
});
