/**
 * A Connect publish over shards: the envelopes of one request go to their streams' shards, each
 * shard's share in one transaction (all of it or nothing, as before), the shards side by side; the
 * receipts come back in request order. A request whose envelopes all sit on one shard (the usual
 * case: a publisher writes one stream per call) is exactly one transaction. One spanning shards is
 * one transaction per shard: if a shard fails, the call fails with its error although the other
 * shards' shares may have committed — the caller's retry is then a duplicate there (idempotency
 * keys), never a second copy.
 *
 * A pipelining publisher's call goes to every shard, with an empty share where it has no envelope:
 * each shard's module keeps the publisher's cursor (append_publisher_events) and must see every seq,
 * or it would wait for one that went elsewhere.
 */
import type { EventInput } from '../envelope/to-event.js';
import type { AppendReceipt } from '../ports/reducer-sink.js';
import type { PublisherSeq } from '../spacetime/writer.js';
import type { ShardSet } from './shard-set.js';

export async function appendRouted(
  shards: ShardSet,
  events: readonly EventInput[],
  appended?: (shard: string, receipt: AppendReceipt) => void,
  publisher?: PublisherSeq,
): Promise<AppendReceipt[]> {
  const groups = new Map<string, number[]>();
  if (publisher) for (const shard of shards.all()) groups.set(shard.name, []);
  for (const [i, e] of events.entries()) {
    const name = shards.of(e.streamId).name;
    const g = groups.get(name);
    if (g) g.push(i);
    else groups.set(name, [i]);
  }
  const out = new Array<AppendReceipt>(events.length);
  const settled = await Promise.allSettled(
    [...groups].map(async ([name, indexes]) => {
      const { writer } = shards.named(name);
      const share = indexes.map((i) => events[i] as EventInput);
      const receipts = publisher
        ? await writer.appendPublished(share, publisher)
        : await writer.appendBatch(share);
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
