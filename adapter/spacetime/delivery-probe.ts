/**
 * Fan-out latency as a subscriber sees it. Every interval the probe appends one event to its own
 * stream through the service's writer (the same path and queue as real traffic) and times how long
 * until a separate subscriber connection — confirmed reads on, like a desktop client — receives it.
 * Real streams are never read: subscribing to them all would copy the whole lane into this process.
 * The probe stream keeps only its newest events (retention), so it stays small.
 */
import { create } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { DbConnection } from '../../module/bindings/index.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { hashPayload } from '../../shared/payload-hash.js';
import { toEventInput } from '../envelope/to-event.js';
import type { AdapterMetrics } from '../metrics.js';
import type { SpacetimeWriter } from './writer.js';

export const PROBE_STREAM = 'spacetime-sync.probe';
/** Probe events kept in the probe stream. */
const RETAIN = 100n;

export interface DeliveryProbeOptions {
  readonly uri: string;
  readonly database: string;
  /** The writer's token: a writer, which grants itself the probe stream before reading it. */
  readonly token?: string;
  readonly writer: SpacetimeWriter;
  readonly metrics: AdapterMetrics;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** A probe not delivered within this long counts as missed (default 30 s). */
  readonly missAfterMs?: number;
}

export class DeliveryProbe {
  private conn: DbConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private n = 0;
  private configured = false;
  private readonly instance = `${process.pid}-${Date.now().toString(36)}`;
  /** Probe key → when its append was handed to the writer (performance.now()). */
  private readonly pending = new Map<string, number>();

  constructor(private readonly o: DeliveryProbeOptions) {}

  start(): void {
    this.connect();
    const tick = () => {
      if (this.stopped) return;
      void this.fire().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.o.intervalMs);
  }

  private connect(): void {
    if (this.stopped) return;
    ensureWebSocket();
    const conn = DbConnection.builder()
      .withUri(this.o.uri)
      .withDatabaseName(this.o.database)
      .withToken(this.o.token)
      .withConfirmedReads(true)
      .onConnect((c, identity) => {
        c.subscriptionBuilder().subscribe(`SELECT * FROM sync_event WHERE stream_id = '${PROBE_STREAM}'`);
        // Row-level security shows the probe's events once this identity holds a read grant.
        c.reducers
          .grantStreamRead({ reader: identity, streamId: PROBE_STREAM })
          .catch((e) =>
            this.o.logger.warn({ err: String(e) }, 'delivery probe could not grant itself its stream'),
          );
      })
      .onDisconnect(() => this.reconnectLater(conn))
      .onConnectError(() => this.reconnectLater(conn))
      .build();
    conn.db.syncEvent.onInsert((_ctx, row) => {
      const sent = this.pending.get(row.idempotencyKey);
      if (sent === undefined) return;
      this.pending.delete(row.idempotencyKey);
      this.o.metrics.fanoutLatency.observe((performance.now() - sent) / 1000);
    });
    this.conn = conn;
  }

  private reconnectLater(conn: DbConnection): void {
    if (this.stopped || this.conn !== conn) return;
    this.conn = undefined;
    setTimeout(() => this.connect(), 1_000).unref();
  }

  private async fire(): Promise<void> {
    const missAfter = this.o.missAfterMs ?? 30_000;
    const now = performance.now();
    for (const [key, sent] of this.pending) {
      if (now - sent < missAfter) continue;
      this.pending.delete(key);
      this.o.metrics.probesMissed.inc();
      this.o.logger.warn({ key, afterMs: Math.round(now - sent) }, 'delivery probe not received');
    }
    if (!this.conn?.isActive || !this.o.writer.isConnected) return;
    const key = `probe-${this.instance}-${++this.n}`;
    const payload = new TextEncoder().encode(key);
    this.pending.set(key, performance.now());
    try {
      // An ordinary envelope through the same mapping and hash as published ones.
      const envelope = create(SyncEnvelopeSchema, {
        streamId: PROBE_STREAM,
        idempotencyKey: key,
        kind: 'spacetime-sync.probe.v1',
        payload,
        ...hashPayload(payload),
      });
      await this.o.writer.appendBatch([toEventInput(envelope)]);
      if (!this.configured) {
        await this.conn?.reducers.configureStream({
          streamId: PROBE_STREAM,
          retainMinEvents: RETAIN,
          compactByKey: false,
        });
        this.configured = true;
      }
    } catch (e) {
      // A failed probe is what the metric is for; it is not the service's failure.
      this.pending.delete(key);
      this.o.logger.debug({ err: String(e) }, 'delivery probe append failed');
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.conn?.disconnect();
    this.conn = undefined;
    this.pending.clear();
  }
}
