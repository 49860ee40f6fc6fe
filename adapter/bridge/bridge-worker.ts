/**
 * The bridge worker: drains the outbox of its target to every configured Nostr relay. Each relay has
 * its own link and its own pump; a relay that is down, slow or refusing only delays its own deliveries.
 * Answers are recorded through `record_bridge_deliveries` in batches, one call at a time. The sync
 * reducers never wait for any of this: the worker only reads the outbox and writes delivery records.
 */

import type { EventTemplate, VerifiedEvent } from 'nostr-tools/core';
import type { Logger } from 'pino';
import { parseModuleError } from '../../module/src/errors.js';
import type { BridgeConfig } from './bridge-config.js';
import type { BridgeMetrics } from './bridge-metrics.js';
import { DeliveryPlan, type PendingRow } from './delivery-plan.js';
import type { LinkState } from './link-state.js';
import { toTemplate, UnpublishableError } from './nostr-event.js';
import { type DeliveryReport, OutboxLink } from './outbox-link.js';
import type { OutboxState } from './outbox-state.js';
import { type PublishOutcome, RelayLink } from './relay-link.js';

export interface BridgeWorkerOptions {
  readonly config: BridgeConfig;
  readonly uri: string;
  readonly database: string;
  /** The worker identity's token (absent: a fresh identity from the host). */
  readonly token?: string;
  /** One connection attempt's bound (`SPACETIMEDB_CONNECT_TIMEOUT_MS`, ../spacetime/connect-deadline.ts). */
  readonly connectTimeoutMs?: number;
  /** Grants the worker identity its target before it subscribes (the service does it as a writer). */
  readonly grant?: (identityHex: string, target: string) => Promise<void>;
  readonly metrics: BridgeMetrics;
  /**
   * Labels every relay metric of this worker carries besides `relay`: `{ shard }` when the service
   * has several shards, each drained by its own worker.
   */
  readonly metricLabels?: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /**
   * Signs off the event loop (./thread-signer.ts); `sign` rejects when it could not. Shared by the
   * workers of every shard (one signing thread, batches across shards); its owner closes it.
   */
  readonly signer: {
    sign(template: EventTemplate): Promise<VerifiedEvent>;
  };
}

const MAX_REPORTS_PER_CALL = 500;
/**
 * A relay's answer waits up to this long for others to share its `record_bridge_deliveries` call:
 * one transaction (and one subscription update) per batch instead of per answer, which is what
 * competed with sync for the host.
 */
const RECORD_DELAY_MS = 25;
/** Rows that became due wait up to this long to share a pump (see schedulePump). */
const PUMP_DELAY_MS = 10;

export class BridgeWorker {
  readonly plan = new DeliveryPlan();
  private readonly outbox: OutboxLink;
  private readonly relays: { readonly label: string; readonly link: RelayLink }[];
  private readonly labels: string[];
  /** Metric labels by relay label: `relay` plus the worker's own (its shard). */
  private readonly metricLabels: Map<string, Record<string, string>>;
  private reports: DeliveryReport[] = [];
  /** Signed once per row and reused for every relay and retry (signing is the worker's main CPU cost). */
  private readonly signed = new Map<bigint, VerifiedEvent>();
  /** Rows whose event is being signed on the signing thread. */
  private readonly signing = new Set<bigint>();
  private recording = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private pumpTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly ready: Promise<void>;
  private markReady: () => void = () => {};

  constructor(private readonly o: BridgeWorkerOptions) {
    const { config, metrics } = o;
    this.labels = config.relays.map((r) => r.label);
    this.metricLabels = new Map(this.labels.map((relay) => [relay, { ...o.metricLabels, relay }]));
    this.ready = new Promise((r) => {
      this.markReady = r;
    });
    this.relays = config.relays.map((r) => ({
      label: r.label,
      link: new RelayLink({
        url: r.url,
        publishTimeoutMs: config.publishTimeoutMs,
        onState: (s: LinkState) => {
          metrics.relayUp.set(this.labelsOf(r.label), s.tag === 'open' ? 1 : 0);
          if (s.tag === 'open') this.schedulePump();
          if (s.tag === 'backoff')
            o.logger.warn({ relay: r.label, why: s.why }, 'relay unreachable; backing off');
        },
      }),
    }));
    for (const r of this.relays) metrics.relayUp.set(this.labelsOf(r.label), 0);
    const plan = this.plan;
    this.outbox = new OutboxLink({
      uri: o.uri,
      database: o.database,
      ...(o.token ? { token: o.token } : {}),
      target: config.target,
      logger: o.logger,
      ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      ...(o.grant
        ? { beforeSubscribe: (id: string) => o.grant?.(id, config.target) ?? Promise.resolve() }
        : {}),
      listener: {
        row: (row) => {
          plan.upsertRow(row);
          this.schedulePump();
        },
        rowGone: (id) => {
          plan.removeRow(id);
          this.signed.delete(id);
        },
        delivery: (id, relay, d) => plan.recordDelivery(id, relay, d),
        deliveryGone: (id, relay) => plan.forgetDelivery(id, relay),
        state: (s: OutboxState) => this.onOutboxState(s),
      },
    });
  }

  /** Starts the links; resolves once the outbox subscription is live (or rejects after `waitMs`). */
  async start(waitMs = 30_000): Promise<void> {
    this.outbox.start();
    for (const r of this.relays) r.link.start();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`bridge: no outbox subscription within ${waitMs} ms`)),
            waitMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The identity the worker runs as (known once connected). */
  get identity(): string | undefined {
    return this.outbox.identityHex;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.batchTimer);
    clearTimeout(this.pumpTimer);
    for (const r of this.relays) r.link.stop();
    // Answers already received are recorded if SpacetimeDB is still there; unrecorded ones are
    // published again by the next worker and the relays answer `duplicate:`.
    await this.flush().catch(() => {});
    this.outbox.stop();
  }

  private labelsOf(relay: string): Record<string, string> {
    return this.metricLabels.get(relay) ?? { ...this.o.metricLabels, relay };
  }

  private onOutboxState(s: OutboxState): void {
    if (s.tag === 'live') {
      this.o.logger.info({ target: this.o.config.target, relays: this.labels }, 'bridge worker live');
      this.markReady();
      this.schedulePump();
      void this.flush();
    }
    if (s.tag === 'backoff') {
      this.plan.forgetModuleView();
      this.signed.clear();
    }
  }

  /**
   * Pumps at most once per PUMP_DELAY_MS: new rows, signed events and freed capacity that arrive
   * meanwhile go out together — one scan of the plan, one message to the signing thread, one burst
   * of sends — instead of one of each per outbox insert, which is what a busy outbox costs per event.
   */
  private schedulePump(): void {
    if (this.pumpQueued || this.stopped) return;
    this.pumpQueued = true;
    this.pumpTimer = setTimeout(() => {
      this.pumpQueued = false;
      this.pump();
    }, PUMP_DELAY_MS);
  }

  private pump(): void {
    if (this.stopped || this.outbox.current.tag !== 'live') return;
    const now = Date.now();
    for (const { label, link } of this.relays) {
      if (link.current.tag !== 'open') continue;
      for (const row of this.plan.due(label, now, this.o.config.maxInFlight - link.inFlightCount)) {
        this.publish(label, link, row);
      }
    }
    clearTimeout(this.retryTimer);
    const next = this.plan.nextRetryAt(now);
    if (next !== undefined) this.retryTimer = setTimeout(() => this.schedulePump(), next - now);
  }

  /** Publishes the row's event once signed; until then starts (or waits for) its signing. */
  private publish(relay: string, link: RelayLink, row: PendingRow): void {
    const event = this.signed.get(row.outboxId);
    if (event) {
      this.send(relay, row, event.id, link.publish(event));
      return;
    }
    let template: EventTemplate;
    try {
      template = toTemplate(row.entry);
    } catch (e) {
      if (!(e instanceof UnpublishableError)) throw e;
      // Counts as a refusal at every relay: bounded by max_attempts, then failed with this reason.
      this.send(relay, row, '', Promise.resolve({ kind: 'refused', reason: `unpublishable: ${e.message}` }));
      return;
    }
    if (this.signing.has(row.outboxId)) return;
    this.signing.add(row.outboxId);
    this.o.signer.sign(template).then(
      (signed) => {
        this.signing.delete(row.outboxId);
        // The row may have been answered by another worker or pruned meanwhile.
        if (this.plan.has(row.outboxId)) this.signed.set(row.outboxId, signed);
        this.schedulePump();
      },
      (e: Error) => {
        this.signing.delete(row.outboxId);
        this.o.logger.warn({ err: e.message }, 'signing a bridge event failed; trying again');
        if (!this.stopped) setTimeout(() => this.schedulePump(), 1_000).unref();
      },
    );
  }

  private send(relay: string, row: PendingRow, eventId: string, outcome: Promise<PublishOutcome>): void {
    const { metrics } = this.o;
    const labels = this.labelsOf(relay);
    if (this.plan.started(row.outboxId, relay)) metrics.retried.inc(labels);
    const sentAt = process.hrtime.bigint();
    void outcome.then((o) => {
      if (o.kind === 'unreachable') {
        metrics.unanswered.inc(labels);
        this.plan.unanswered(row.outboxId, relay);
        return;
      }
      metrics.publishLatency.observe(labels, Number(process.hrtime.bigint() - sentAt) / 1e9);
      if (o.kind === 'accepted') metrics.published.inc(labels);
      if (o.kind === 'accepted' && o.message.startsWith('duplicate:')) metrics.duplicates.inc(labels);
      if (o.kind === 'refused') metrics.refused.inc(labels);
      this.plan.answered(row.outboxId, relay, o.kind === 'refused', Date.now());
      this.reports.push({
        outboxId: row.outboxId,
        bridgeKey: row.entry.bridgeKey,
        relay,
        accepted: o.kind === 'accepted',
        message: o.kind === 'accepted' ? o.message : o.reason,
        eventId,
      });
      this.scheduleFlush();
      this.schedulePump();
    });
  }

  private scheduleFlush(): void {
    if (this.reports.length >= MAX_REPORTS_PER_CALL) {
      void this.flush();
      return;
    }
    if (this.batchTimer || this.stopped) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      void this.flush();
    }, RECORD_DELAY_MS);
  }

  /** Records buffered answers, one reducer call at a time; on failure they stay buffered for the next try. */
  private async flush(): Promise<void> {
    if (this.recording) return;
    this.recording = true;
    let retryLater = false;
    try {
      while (this.reports.length > 0 && this.outbox.current.tag === 'live') {
        const batch = this.reports.slice(0, MAX_REPORTS_PER_CALL);
        try {
          await this.outbox.record(this.labels, batch);
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          // A typed module error can't succeed by retrying the same batch: say so and drop it; the
          // rows stay pending and are published (and reported) again.
          const permanent = parseModuleError(message) !== undefined;
          this.o.metrics.recordErrors.inc({ ...this.o.metricLabels, permanent: String(permanent) });
          this.o.logger.error(
            { err: message, reports: batch.length, permanent },
            'recording bridge deliveries failed',
          );
          if (!permanent) {
            retryLater = true;
            return;
          }
        }
        this.reports = this.reports.slice(batch.length);
        this.plan.committed(batch);
      }
    } finally {
      this.recording = false;
      // Re-check after the awaits: answers may have arrived, the link dropped, or the worker stopped.
      if (!this.stopped && this.reports.length > 0) {
        clearTimeout(this.flushTimer);
        if (retryLater) this.flushTimer = setTimeout(() => void this.flush(), 1_000);
        else if (this.outbox.current.tag === 'live') void this.flush();
      }
      this.schedulePump();
    }
  }
}
