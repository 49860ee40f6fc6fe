/**
 * The adapter's metric families, in base units (seconds, counts). Labels are bounded: topic and
 * partition come from the configuration, stream families are the stream id up to its first ':'
 * (streams themselves are unbounded and never a label) for at most `MAX_FAMILIES` families of
 * streams SpacetimeDB holds (the rest are `other`), error reasons are the contract's closed set.
 * Only written events move a gauge: the seen authority seqs are recorded after an append, dropped
 * again for a dead-lettered envelope, and kept only for streams that exist.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StreamHead } from './ports/stream-head.js';

export const streamFamily = (streamId: string): string => streamId.split(':', 1)[0] || 'default';

/** Distinct stream-family label values; streams of later families are counted under `other`. */
export const MAX_FAMILIES = 64;
export const OTHER_FAMILY = 'other';

export function createAdapterMetrics(registry: Registry) {
  const p = 'spacetime_sync_';
  const registers = [registry];
  const m = {
    consumerLag: new Gauge({
      name: `${p}kafka_consumer_lag_messages`,
      help: 'High watermark minus the next offset to process, per partition',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    eventsAppended: new Counter({
      name: `${p}events_appended_total`,
      help: 'Envelopes appended to a stream, by source and outcome',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    deadLettered: new Counter({
      name: `${p}dead_letter_total`,
      help: 'Envelopes sent to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers,
    }),
    reducerDuration: new Histogram({
      name: `${p}reducer_call_duration_seconds`,
      help: 'append_sync_events round trip, committed and durable',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    reducerErrors: new Counter({
      name: `${p}reducer_errors_total`,
      help: 'Failed appends, by error reason (the contract ErrorReason, lower-cased)',
      labelNames: ['reason'],
      registers,
    }),
    partitionCallsInFlight: new Histogram({
      name: `${p}kafka_partition_calls_in_flight`,
      help: "A partition's append calls in flight as each pipelined call is sent (KAFKA_PARTITION_CALLS_IN_FLIGHT bounds it)",
      buckets: [1, 2, 4, 8, 16, 32],
      registers,
    }),
    callsRedone: new Counter({
      name: `${p}kafka_calls_redone_total`,
      help: 'Pipelined append calls redone one by one after an earlier call of their partition failed (refused, or its answer lost)',
      registers,
    }),
    batchSize: new Histogram({
      name: `${p}batch_size_events`,
      help: 'Events per append_sync_events call',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500],
      registers,
    }),
    commitLatency: new Histogram({
      name: `${p}produced_to_committed_seconds`,
      help: 'Envelope produced_at until its append committed',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    fanoutLatency: new Histogram({
      name: `${p}probe_fanout_seconds`,
      help: 'Delivery probe: append handed to the writer until a separate confirmed-read subscriber received it',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    probesMissed: new Counter({
      name: `${p}probe_missed_total`,
      help: 'Delivery probes not received by the probe subscriber in time',
      registers,
    }),
    inFlight: new Gauge({
      name: `${p}in_flight_events`,
      help: 'Events fetched and not yet committed',
      registers,
    }),
    sequenceLag: new Gauge({
      name: `${p}sequence_lag`,
      help: 'Authority seq seen minus authority seq of the projected head, summed per stream family',
      labelNames: ['family'],
      registers,
    }),
    replayGaps: new Gauge({
      name: `${p}source_gap_missing_seqs`,
      help: 'Authority seqs that never arrived (recorded gaps), per stream family',
      labelNames: ['family'],
      registers,
    }),
    kafkaPaused: new Gauge({
      name: `${p}kafka_fetch_paused`,
      help: '1 while fetching is paused because in-flight events passed the bound',
      registers,
    }),
    kafkaPauses: new Counter({
      name: `${p}kafka_fetch_pauses_total`,
      help: 'Times fetching was paused for backpressure',
      registers,
    }),
    consumerRestarts: new Counter({
      name: `${p}kafka_consumer_restarts_total`,
      help: 'Consumer restarts by the no-progress watchdog',
      registers,
    }),
    spacetimeConnected: new Gauge({
      name: `${p}spacetimedb_connected`,
      help: '1 while the adapter holds a live SpacetimeDB connection',
      registers,
    }),
    // A SpacetimeDB restart can be shorter than a scrape interval; the counter still shows it.
    spacetimeReconnects: new Counter({
      name: `${p}spacetimedb_reconnects_total`,
      help: 'SpacetimeDB connections re-established after a loss (SpacetimeDB restarted or the link dropped)',
      registers,
    }),
    ready: new Gauge({
      name: `${p}ready`,
      help: '1 while /readyz answers ready (SpacetimeDB connected and, when configured, the Kafka consumer running)',
      registers,
    }),
    // Per shard: the label's values are the configured shard names, never derived from traffic.
    shardConnected: new Gauge({
      name: `${p}shard_connected`,
      help: "1 while the adapter's writer connection to the shard's database is live",
      labelNames: ['shard'],
      registers,
    }),
    shardEventsAppended: new Counter({
      name: `${p}shard_events_appended_total`,
      help: 'Envelopes appended, by shard and outcome (Kafka and Connect together)',
      labelNames: ['shard', 'outcome'],
      registers,
    }),
    shardLaggingPartitions: new Gauge({
      name: `${p}shard_lagging_partitions`,
      help: "Partitions where the shard's events wait for a re-read because it was down",
      labelNames: ['shard'],
      registers,
    }),
    epochChanges: new Counter({
      name: `${p}stream_epoch_changes_total`,
      help: 'Stream epoch bumps seen (reset, or retention past a client checkpoint): every follower of the stream rebootstraps',
      labelNames: ['family'],
      registers,
    }),
  };
  /**
   * Whether the Kafka consumer consumes, registered only when Kafka is configured (else it would read
   * as down). Not /readyz's notion: while kafkajs retries lost brokers the consumer still counts as
   * running there, but consumes nothing.
   */
  const kafkaConsuming = new Gauge({
    name: `${p}kafka_consuming`,
    help: '1 while the Kafka consumer consumes or is paused for backpressure; 0 while it connects (e.g. the brokers are down), rebalances, restarts or crashed',
    registers: [],
  });
  /** Highest authority seq seen per stream (from envelopes), to compare with the projected head. */
  const seenSource = new Map<string, bigint>();
  /**
   * Epoch per stream at the last refresh; bumps since then are counted. The first refresh (at start)
   * is the baseline; a stream first seen later was created at epoch 1 after it.
   */
  const seenEpoch = new Map<string, bigint>();
  let baselined = false;
  /** Family label values in use, first come first served up to MAX_FAMILIES. */
  const families = new Set<string>();
  const familyLabel = (streamId: string): string => {
    const f = streamFamily(streamId);
    if (families.has(f)) return f;
    if (families.size >= MAX_FAMILIES) return OTHER_FAMILY;
    families.add(f);
    return f;
  };
  return {
    ...m,
    kafkaConsuming,
    /** Adds the Kafka consumer family; call once, when the service runs a consumer. */
    enableKafkaConsumerMetrics(): void {
      registry.registerMetric(kafkaConsuming);
    },
    sawSourceSeq(stream: string, seq: bigint): void {
      if (seq > (seenSource.get(stream) ?? 0n)) seenSource.set(stream, seq);
    },
    /** The envelope carrying `seq` was refused (dead-lettered): it must not count as seen. */
    refusedSourceSeq(stream: string, seq: bigint): void {
      if (seenSource.get(stream) === seq) seenSource.delete(stream);
    },
    /** Highest authority seq this process has seen for the stream, appended or not. */
    latestSourceSeq(stream: string): bigint | undefined {
      return seenSource.get(stream);
    },
    /** Recomputed on scrape from the streams SpacetimeDB holds. */
    refreshStreams(streams: ReadonlyMap<string, StreamHead>): void {
      const lag = new Map<string, number>();
      const gaps = new Map<string, number>();
      // Per-stream state only for streams SpacetimeDB holds: anything else was never written.
      for (const id of seenSource.keys()) if (!streams.has(id)) seenSource.delete(id);
      for (const id of seenEpoch.keys()) if (!streams.has(id)) seenEpoch.delete(id);
      for (const [id, s] of streams) {
        const f = familyLabel(id);
        const seen = seenSource.get(id) ?? s.lastSourceSeq;
        lag.set(f, (lag.get(f) ?? 0) + Number(seen > s.lastSourceSeq ? seen - s.lastSourceSeq : 0n));
        gaps.set(f, (gaps.get(f) ?? 0) + Number(s.sourceGapMissing));
        const before = seenEpoch.get(id) ?? (baselined ? 1n : s.epoch);
        if (s.epoch > before) m.epochChanges.inc({ family: f }, Number(s.epoch - before));
        seenEpoch.set(id, s.epoch);
      }
      baselined = true;
      m.sequenceLag.reset();
      m.replayGaps.reset();
      for (const [f, v] of lag) m.sequenceLag.set({ family: f }, v);
      for (const [f, v] of gaps) m.replayGaps.set({ family: f }, v);
    },
  };
}

export type AdapterMetrics = ReturnType<typeof createAdapterMetrics>;
