/**
 * The memory-only twin (devhost without `--data`): same contract, nothing written, every appended
 * offset durable at once. Offsets are still checked so a datastore bug shows up the same way in both.
 */
import { DurabilityError } from './errors.js';
import type { DatabaseImage, Durability } from './types.js';
import { DurableWaiters } from './waiters.js';

export function memoryDurability(): Durability {
  const waiters = new DurableWaiters();
  let meta: Readonly<Record<string, string>> = Object.freeze({});
  let last = -1n;
  let closed = false;
  const recovered: DatabaseImage = { offset: -1n, tables: new Map(), sequences: [] };
  const assertOpen = (what: string): void => {
    if (closed) throw new DurabilityError('closed', `${what} after close()`);
  };
  return {
    recovered,
    get meta() {
      return meta;
    },
    setMeta(next) {
      assertOpen('setMeta');
      meta = Object.freeze({ ...next });
    },
    append(tx) {
      assertOpen('append');
      if (tx.offset !== last + 1n)
        throw new DurabilityError(
          'offset-out-of-order',
          `append got offset ${tx.offset}, expected ${last + 1n}`,
        );
      last = tx.offset;
      waiters.release(last);
    },
    durableOffset: () => last,
    waitDurable(offset) {
      if (offset <= last) return Promise.resolve();
      if (closed) return Promise.reject(new DurabilityError('closed', `offset ${offset} was never appended`));
      return waiters.wait(offset);
    },
    shouldSnapshot: () => false,
    snapshot: async (image) => {
      if (image.offset > last)
        throw new DurabilityError(
          'invalid-argument',
          `snapshot at ${image.offset} is ahead of the log (last ${last})`,
        );
    },
    async close() {
      closed = true;
      waiters.rejectAll(new DurabilityError('closed', 'closed before this offset was appended'));
    },
  };
}
