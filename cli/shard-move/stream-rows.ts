/**
 * One stream's rows on one shard, read through the SDK (the operator's token must see its events:
 * the owner's, or a reader granted the stream): the head row and every stored event in seq order.
 */
import type { DbConnection } from '../../module/bindings/index.js';
import type { EventInput } from '../../module/bindings/types.js';

export interface StreamRows {
  readonly head: bigint;
  readonly lowWatermark: bigint;
  readonly epoch: bigint;
  /** Stored events in seq order, as the append reducer takes them. */
  readonly events: readonly (EventInput & { readonly seq: bigint })[];
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The stream's rows on `conn`'s database; undefined when the shard does not hold the stream. */
export function readStreamRows(conn: DbConnection, streamId: string): Promise<StreamRows | undefined> {
  return new Promise((resolve, reject) => {
    const sub = conn
      .subscriptionBuilder()
      .onApplied(() => {
        const s = conn.db.syncStream.stream_id.find(streamId);
        const events = [...conn.db.syncEvent.iter()]
          .filter((e) => e.streamId === streamId)
          .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
          .map((e) => ({
            seq: e.seq,
            streamId: e.streamId,
            idempotencyKey: e.idempotencyKey,
            kind: e.kind,
            payload: e.payload,
            payloadHash: e.payloadHash,
            compactionKey: e.compactionKey,
            sourceTopic: e.sourceTopic,
            sourceSeq: e.sourceSeq,
            kafkaTopic: e.kafkaTopic,
            kafkaPartition: e.kafkaPartition,
            kafkaOffset: e.kafkaOffset,
            producedAt: e.producedAt,
          }));
        sub.unsubscribe();
        resolve(s ? { head: s.headSeq, lowWatermark: s.lowWatermark, epoch: s.epoch, events } : undefined);
      })
      .onError((ctx) => reject(new Error(`cannot read stream ${streamId}: ${String(ctx.event ?? '')}`)))
      .subscribe([
        `SELECT * FROM sync_stream WHERE stream_id = ${quote(streamId)}`,
        `SELECT * FROM sync_event WHERE stream_id = ${quote(streamId)}`,
      ]);
  });
}

/** What parity compares between the shards: seq, key and payload hash of every event. */
export function fingerprint(rows: StreamRows | undefined): string[] {
  return (rows?.events ?? []).map(
    (e) => `${e.seq} ${e.idempotencyKey} ${Buffer.from(e.payloadHash).toString('hex')}`,
  );
}
