/**
 * The bridge's metric families. The relay label is the one from BRIDGE_NOSTR_RELAYS (bounded by the
 * configuration, never taken from a relay or a row); outbox depth and age are read from the workers'
 * subscriptions when scraped. With several shards each shard has its own worker and every series
 * also carries `shard` (the configured shard name); with one shard the series are as before, without it.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface OutboxGauges {
  readonly depth: number;
  oldestPendingMicros(): bigint | undefined;
}

/** One worker's outbox, and the shard label its series carry (absent with one shard). */
export interface ShardOutbox {
  readonly shard?: string;
  readonly outbox: OutboxGauges;
}

export function createBridgeMetrics(registry: Registry, outboxes: () => readonly ShardOutbox[]) {
  const p = 'spacetime_sync_bridge_';
  const registers = [registry];
  const labelsOf = (o: ShardOutbox) => (o.shard === undefined ? {} : { shard: o.shard });
  return {
    outboxDepth: new Gauge({
      name: `${p}outbox_pending`,
      help: 'Outbox rows not yet delivered to every relay (the worker target only)',
      labelNames: ['shard'],
      registers,
      collect() {
        for (const o of outboxes()) this.set(labelsOf(o), o.outbox.depth);
      },
    }),
    oldestPending: new Gauge({
      name: `${p}oldest_pending_seconds`,
      help: 'Age of the oldest pending outbox row; 0 when none is pending',
      labelNames: ['shard'],
      registers,
      collect() {
        for (const o of outboxes()) {
          const oldest = o.outbox.oldestPendingMicros();
          this.set(
            labelsOf(o),
            oldest === undefined ? 0 : Math.max(0, Date.now() / 1000 - Number(oldest) / 1e6),
          );
        }
      },
    }),
    published: new Counter({
      name: `${p}published_total`,
      help: "Events a relay accepted (OK true, including its 'duplicate:')",
      labelNames: ['shard', 'relay'],
      registers,
    }),
    duplicates: new Counter({
      name: `${p}duplicates_total`,
      help: "Accepted events the relay already had ('duplicate:'): a redelivery after a crash or a lost record",
      labelNames: ['shard', 'relay'],
      registers,
    }),
    refused: new Counter({
      name: `${p}refused_total`,
      help: 'Events a relay refused (OK false); the reason is recorded on the delivery',
      labelNames: ['shard', 'relay'],
      registers,
    }),
    retried: new Counter({
      name: `${p}retried_total`,
      help: 'Publishes of a delivery tried before (after a refusal or no answer)',
      labelNames: ['shard', 'relay'],
      registers,
    }),
    unanswered: new Counter({
      name: `${p}unanswered_total`,
      help: 'Publishes that got no answer (relay down, connection dropped, timed out)',
      labelNames: ['shard', 'relay'],
      registers,
    }),
    relayUp: new Gauge({
      name: `${p}relay_up`,
      help: '1 while the connection to the relay is open',
      labelNames: ['shard', 'relay'],
      registers,
    }),
    publishLatency: new Histogram({
      name: `${p}publish_seconds`,
      help: "EVENT sent until the relay's OK",
      labelNames: ['shard', 'relay'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    recordErrors: new Counter({
      name: `${p}record_errors_total`,
      help: 'Failed record_bridge_deliveries calls (retried unless permanent)',
      labelNames: ['shard', 'permanent'],
      registers,
    }),
  };
}

export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
