/**
 * The database's one transaction queue, like the real host's single JS worker (host spec §2.6): tasks
 * run one at a time in submission order, and the next starts only after the previous one's promise
 * continuations ran (a macrotask later), so a caller awaiting a commit sees its effects before the
 * next transaction does anything. A failing task fails its own promise and does not stop the queue.
 */
export class TxQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    const nextTurn = () => new Promise<void>((r) => setImmediate(r));
    this.tail = result.then(nextTurn, nextTurn);
    return result;
  }

  /** Resolves once everything submitted so far has run. */
  drained(): Promise<void> {
    return this.run(() => undefined);
  }
}
