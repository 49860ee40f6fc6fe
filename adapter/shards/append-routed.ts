/**
 * A Connect publish over shards: the envelopes of one request go to their streams' shards, each
 * shard's share in one transaction (all of it or nothing, as before), the shards side by side; the
 * receipts come back in request order. A request whose envelopes all sit on one shard (the usual
 * case: a publisher writes one stream per call) is exactly one transaction. One spanning shards is
 * one transaction per shard: if a shard fails, the call fails with its error although the other
 * shards' shares may have committed — the caller's retry is then a duplicate there (idempotency
 * keys), never a second copy.
 */
import type { EventInput } from '../envelope/to-event.js';
import type { AppendReceipt } from '../ports/reducer-sink.js';
import type { ShardSet } from './shard-set.js';

export async function appendRouted(
  shards: ShardSet,
  events: readonly EventInput[],
  appended?: (shard: string, receipt: AppendReceipt) => void,
): Promise<AppendReceipt[]> {
  const groups = new Map<string, number[]>();
  for (const [i, e] of events.entries()) {
    const name = shards.of(e.streamId).name;
    const g = groups.get(name);
    if (g) g.push(i);
    else groups.set(name, [i]);
  }
  const out = new Array<AppendReceipt>(events.length);
  const settled = await Promise.allSettled(
    [...groups].map(async ([name, indexes]) => {
      const receipts = await shards
        .named(name)
        .writer.appendBatch(indexes.map((i) => events[i] as EventInput));
      for (const [k, r] of receipts.entries()) {
        out[indexes[k] as number] = r;
        appended?.(name, r);
      }
    }),
  );
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return out;
}
