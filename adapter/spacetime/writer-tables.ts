/**
 * What the writer reads from the tables it subscribes to (`sync_stream`, `source_cursor`): stream
 * heads for the ingest's checks and the Kafka cursors that anchor exactly-once. Pure reads of the
 * SDK's cache, only called while the writer is connected (a reconnecting writer knows no cursor).
 */
import type { DbConnection } from '../../module/bindings/index.js';
import type { StreamHead } from '../ports/stream-head.js';

type Tables = DbConnection['db'];
type StreamRow = NonNullable<ReturnType<Tables['syncStream']['stream_id']['find']>>;

function toStreamHead(s: StreamRow): StreamHead {
  return {
    head: s.headSeq,
    lowWatermark: s.lowWatermark,
    epoch: s.epoch,
    lastSourceSeq: s.lastSourceSeq,
    sourceGapMissing: s.sourceGapMissing,
    updatedAtMicros: s.updatedAt.microsSinceUnixEpoch,
    retainMinEvents: s.retainMinEvents,
  };
}

export function streamHead(tables: Tables, streamId: string): StreamHead | undefined {
  const s = tables.syncStream.stream_id.find(streamId);
  return s ? toStreamHead(s) : undefined;
}

export function streamHeads(tables: Tables): Map<string, StreamHead> {
  const out = new Map<string, StreamHead>();
  for (const s of tables.syncStream.iter()) out.set(s.streamId, toStreamHead(s));
  return out;
}

/** The next Kafka offset SpacetimeDB holds for a partition, if it holds one. */
export function kafkaCursor(
  tables: Tables,
  group: string,
  topic: string,
  partition: number,
): bigint | undefined {
  for (const c of tables.sourceCursor.iter()) {
    if (c.consumerGroup === group && c.topic === topic && c.partition === partition) return c.nextOffset;
  }
  return undefined;
}
