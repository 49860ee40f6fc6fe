/**
 * Shadow mode (`PARITY_SHADOW=1`): inside the running service, a legacy-lane client and one of our
 * clients follow a sample of the streams, and every tick the classifier's findings are exported:
 * `spacetime_sync_parity_compared_total`, `spacetime_sync_parity_mismatch_total{class}` and
 * `spacetime_sync_parity_time_to_parity_seconds` (labels: the closed class list only). Streams are
 * sampled by a hash of their id, the same way on both sides, so neither lane needs to know the sample.
 * Streams created after start join at the next tick (the candidate client is replaced, resuming where
 * it was). Both clients start at the beginning of retained history; each stream is compared from the
 * later of the two lanes' first deliveries on (the lanes retain different amounts).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { classify, DIVERGENCE_CLASSES } from '../classify.js';
import { CandidateCollector, type CandidateTarget } from '../collect/candidate.js';
import { LegacyCollector, type LegacyLaneHealth } from '../collect/legacy.js';
import { authorityKey, GEN1_RULES, LaneMapping, MappingError } from '../mapping.js';
import type { CandidateEntry, LegacyEntry } from '../observation.js';
import type { ShadowConfig } from './config.js';
import { ShadowLedger } from './ledger.js';

/** What the shadow keeps after it counted something, before forgetting it. */
const RETAIN_MS = 10 * 60_000;

/** Deterministic per stream: the same stream is in or out of the sample in every process. */
export function sampled(streamId: string, rate: number): boolean {
  if (rate >= 1) return true;
  return createHash('sha256').update(streamId).digest().readUInt32BE(0) / 2 ** 32 < rate;
}

function shadowMetrics(registry: Registry) {
  const registers = [registry];
  const mismatch = new Counter({
    name: 'spacetime_sync_parity_mismatch_total',
    help: 'Shadow parity: divergences between the legacy lane and spacetime-sync, by class',
    labelNames: ['class'],
    registers,
  });
  for (const c of DIVERGENCE_CLASSES) mismatch.inc({ class: c }, 0); // every class exported from the start
  const rebootstraps = new Counter({
    name: 'spacetime_sync_parity_rebootstraps_total',
    help: "Shadow parity: stale cursors the shadow's resuming clients met (candidate: rebootstrap, legacy: stale_cursor)",
    labelNames: ['lane'],
    registers,
  });
  for (const lane of ['legacy', 'candidate']) rebootstraps.inc({ lane }, 0);
  return {
    mismatch,
    compared: new Counter({
      name: 'spacetime_sync_parity_compared_total',
      help: 'Shadow parity: events both lanes delivered and were compared',
      registers,
    }),
    timeToParity: new Histogram({
      name: 'spacetime_sync_parity_time_to_parity_seconds',
      help: 'Shadow parity: how long after the legacy lane spacetime-sync delivered an event (0 when it was first)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    rebootstraps,
    connected: new Gauge({
      name: 'spacetime_sync_parity_shadow_connected',
      help: "Shadow parity: 1 while the lane's client is subscribed and following",
      labelNames: ['lane'],
      registers,
    }),
  };
}

type Life = { readonly t: 'running'; readonly timer: NodeJS.Timeout } | { readonly t: 'stopped' };

export class ParityShadow {
  private life: Life = { t: 'stopped' };
  /** The naming the reference lane and real gen-1 endpoints use. */
  private readonly mapping = new LaneMapping(GEN1_RULES);
  private readonly ledger: ShadowLedger;
  private readonly metrics: ReturnType<typeof shadowMetrics>;
  private readonly legacy: LegacyCollector;
  private candidate: CandidateCollector;
  private ticking = false;
  /** Rebootstrap/stale entries already counted, per lane (those entries are never forgotten). */
  private readonly staleCounted = { legacy: 0, candidate: 0 };

  constructor(
    private readonly o: {
      readonly config: ShadowConfig;
      readonly candidate: CandidateTarget;
      /** The streams spacetime-sync holds now (the sample is drawn from these). */
      readonly streams: () => Iterable<string>;
      readonly registry: Registry;
      readonly logger: Logger;
    },
  ) {
    this.ledger = new ShadowLedger(o.config.graceMs);
    this.metrics = shadowMetrics(o.registry);
    this.legacy = new LegacyCollector(
      { url: o.config.legacyUrl, token: async () => o.config.legacyToken() },
      o.config.topics,
      new Map(),
      (u) => this.inSample(this.streamOfLegacy(u)),
    );
    this.candidate = new CandidateCollector(o.candidate, this.sample());
  }

  private inSample(stream: string | undefined): boolean {
    return stream !== undefined && sampled(stream, this.o.config.sampleRate);
  }

  private streamOfLegacy(u: { topic: string; docKey: string; docVersion: bigint }): string | undefined {
    try {
      return this.mapping.streamOf(this.mapping.fromLegacy(u));
    } catch (e) {
      if (e instanceof MappingError) return undefined;
      throw e;
    }
  }

  private sample(): string[] {
    return [...this.o.streams()].filter((s) => sampled(s, this.o.config.sampleRate)).sort();
  }

  /** The legacy lane as the shadow's client sees it now (the cutover controller's rollback check). */
  legacyLane(): LegacyLaneHealth {
    return this.legacy.health();
  }

  async start(): Promise<void> {
    await Promise.all([this.legacy.start(), this.candidate.start()]);
    if (this.legacy.failure)
      this.o.logger.error({ why: this.legacy.failure }, 'parity shadow: the legacy lane refused');
    const timer = setInterval(() => void this.tick(), this.o.config.tickMs);
    timer.unref();
    this.life = { t: 'running', timer };
  }

  /** One look: classify what both clients hold, export what is new, forget what is old. */
  async tick(nowMs = Date.now()): Promise<void> {
    if (this.life.t !== 'running' || this.ticking) return;
    this.ticking = true;
    try {
      await this.followNewStreams();
      if (this.life.t !== 'running') return;
      const scope = {
        topics: new Set(this.o.config.topics),
        streams: new Set(this.candidate.streams),
        horizon: true,
      };
      const c = classify(
        { legacy: this.legacy.entries, candidate: this.candidate.entries },
        scope,
        this.mapping,
      );
      const delta = this.ledger.account(c, nowMs);
      if (delta.compared) this.metrics.compared.inc(delta.compared);
      for (const lag of delta.lagsMs) this.metrics.timeToParity.observe(Math.max(0, lag) / 1000);
      for (const [cls, n] of delta.mismatches) this.metrics.mismatch.inc({ class: cls }, n);
      this.countStale();
      this.metrics.connected.set({ lane: 'legacy' }, this.legacy.describe().startsWith('subscribed') ? 1 : 0);
      this.metrics.connected.set({ lane: 'candidate' }, this.candidate.describe().startsWith('live') ? 1 : 0);
      this.forget(nowMs - RETAIN_MS);
    } finally {
      this.ticking = false;
    }
  }

  /** The cutover's rebootstrap gate reads these: what a resuming client of each lane met. */
  private countStale(): void {
    const now = {
      legacy: this.legacy.entries.filter((e) => e.kind === 'stale').length,
      candidate: this.candidate.entries.filter((e) => e.kind === 'rebootstrap').length,
    };
    for (const lane of ['legacy', 'candidate'] as const) {
      if (now[lane] > this.staleCounted[lane])
        this.metrics.rebootstraps.inc({ lane }, now[lane] - this.staleCounted[lane]);
      this.staleCounted[lane] = now[lane];
    }
  }

  /** Streams that appeared since the candidate client opened: replace it, resuming where it was. */
  private async followNewStreams(): Promise<void> {
    const want = this.sample();
    const have = new Set(this.candidate.streams);
    if (want.every((s) => have.has(s))) return;
    const old = this.candidate;
    const next = new CandidateCollector(this.o.candidate, want, old.delivered());
    for (const e of old.entries) next.entries.push(e);
    await old.stop();
    this.candidate = next;
    await next.start();
  }

  private forget(beforeMs: number): void {
    const settled = this.ledger.settled(beforeMs);
    if (settled.size === 0) return;
    const legacyKey = (e: LegacyEntry) =>
      e.kind === 'update' ? authorityKey(this.mapping.fromLegacy({ ...e.update })) : undefined;
    const candidateKey = (e: CandidateEntry) =>
      e.kind === 'event' ? authorityKey(this.mapping.fromCandidate({ ...e.event })) : undefined;
    this.legacy.retain((e) => {
      const k = safe(() => legacyKey(e));
      return k === undefined || !settled.has(k);
    });
    this.candidate.retain((e) => {
      const k = safe(() => candidateKey(e));
      return k === undefined || !settled.has(k);
    });
    this.ledger.forget(beforeMs);
  }

  async stop(): Promise<void> {
    const life = this.life;
    this.life = { t: 'stopped' };
    if (life.t === 'running') clearInterval(life.timer);
    await Promise.allSettled([this.legacy.stop(), this.candidate.stop()]);
  }
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof MappingError) return undefined;
    throw e;
  }
}
