/**
 * Fan-out latency as a subscriber sees it. Every interval the probe appends one event to its own
 * stream through the service's writer (the same path and queue as real traffic) and times how long
 * until a separate subscriber connection — confirmed reads on, like a desktop client — receives it.
 * Real streams are never read: subscribing to them all would copy the whole lane into this process.
 * The probe stream keeps only its newest events (retention), so it stays small. The lifecycle is
 * ./probe-machine.ts; this class feeds it the SDK's callbacks and carries out its effects.
 */
import { create } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { DbConnection } from '../../module/bindings/index.js';
import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { hashPayload } from '../../shared/payload-hash.js';
import { toEventInput } from '../envelope/to-event.js';
import type { AdapterMetrics } from '../metrics.js';
import {
  type ProbeEffect,
  type ProbeEvent,
  type ProbeKind,
  type ProbeState,
  transitionProbe,
} from './probe-machine.js';
import { openSdkSocket } from './sdk-socket.js';
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
  /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`, ./connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
}

export class DeliveryProbe {
  /** The lifecycle (./probe-machine.ts); changed only through `send`. */
  private state: ProbeState = { kind: 'idle' };
  private conn: DbConnection | undefined;
  private tick: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private n = 0;
  private readonly instance = `${process.pid}-${Date.now().toString(36)}`;
  /** Probe key → when its append was handed to the writer (performance.now()). */
  private readonly pending = new Map<string, number>();

  constructor(private readonly o: DeliveryProbeOptions) {}

  /** The lifecycle state's kind: for tests and logs. */
  get phase(): ProbeKind {
    return this.state.kind;
  }

  start(): void {
    this.send({ type: 'start' });
  }

  stop(): void {
    this.send({ type: 'stop' });
  }

  private send(e: ProbeEvent): void {
    const { state, effects } = transitionProbe(this.state, e);
    this.state = state;
    for (const f of effects) this.run(f);
  }

  private run(f: ProbeEffect): void {
    switch (f.type) {
      case 'open_socket':
        this.connect(f.socket);
        return;
      case 'start_ticks': {
        const tick = () => {
          void this.fire().finally(() => {
            if (this.state.kind !== 'stopped') this.tick = setTimeout(tick, this.o.intervalMs);
          });
        };
        this.tick = setTimeout(tick, this.o.intervalMs);
        return;
      }
      case 'schedule_reconnect':
        this.reconnect = setTimeout(() => this.send({ type: 'retry_due', socket: f.socket }), 1_000);
        this.reconnect.unref();
        return;
      case 'drop_socket': {
        const conn = this.conn;
        this.conn = undefined;
        conn?.disconnect();
        return;
      }
      case 'stop_all':
        clearTimeout(this.tick);
        clearTimeout(this.reconnect);
        this.pending.clear();
        return;
    }
  }

  private connect(socket: number): void {
    ensureWebSocket();
    const conn = openSdkSocket({
      uri: this.o.uri,
      database: this.o.database,
      token: this.o.token,
      connectTimeoutMs: this.o.connectTimeoutMs,
      onOpened: (c, identity) => {
        c.subscriptionBuilder()
          .onApplied(() => this.send({ type: 'subscribed', socket }))
          .onError(() => this.send({ type: 'socket_lost', socket }))
          .subscribe(`SELECT * FROM sync_event WHERE stream_id = '${PROBE_STREAM}'`);
        // Row-level security shows the probe's events once this identity holds a read grant.
        c.reducers
          .grantStreamRead({ reader: identity, streamId: PROBE_STREAM })
          .catch((e) =>
            this.o.logger.warn({ err: String(e) }, 'delivery probe could not grant itself its stream'),
          );
      },
      onLost: () => this.send({ type: 'socket_lost', socket }),
    });
    conn.db.syncEvent.onInsert((_ctx, row) => {
      const sent = this.pending.get(row.idempotencyKey);
      if (sent === undefined) return;
      this.pending.delete(row.idempotencyKey);
      this.o.metrics.fanoutLatency.observe((performance.now() - sent) / 1000);
    });
    this.conn = conn;
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
    if (this.state.kind !== 'watching' || !this.o.writer.isConnected) return;
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
      // Re-checked after the await: the probe may have stopped or lost its socket meanwhile.
      const s = this.state;
      if (s.kind === 'watching' && !s.configured && this.conn) {
        await this.conn.reducers.configureStream({
          streamId: PROBE_STREAM,
          retainMinEvents: RETAIN,
          compactByKey: false,
        });
        this.send({ type: 'configured' });
      }
    } catch (e) {
      // A failed probe is what the metric is for; it is not the service's failure.
      this.pending.delete(key);
      this.o.logger.debug({ err: String(e) }, 'delivery probe append failed');
    }
  }
}
