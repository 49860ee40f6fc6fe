/**
 * Does a mirror failure block sync? Measured at a fixed offered load well below saturation, the
 * deployment's shape: BRIDGE_BENCH_RATE sync events/s (default 1,500) appended through the service's
 * writer in batches every 50 ms, with BRIDGE_BENCH_BRIDGE_SHARE of that (default 0.2) enqueued as
 * bridge events beside them, open loop (a batch goes out on its schedule whether or not earlier ones
 * finished). Each run is one 1 s window of that load plus the wait for its last events (at most 2 s);
 * windows that start in the harness's warm-up are not counted. Per case: sync append rate, the
 * end-to-end latency of each event (append issued → the subscriber has it) at p50/p99, and the share
 * of offered events delivered within the 2 s; the last case compares relay down with relay up over
 * the rounds (./verdict.ts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventInput } from '../../test/support/sync-events.js';
import { type BenchCase, percentile } from '../harness.js';
import { type BridgeStack, CpuWatch, STREAM, startStack } from './stack.js';
import { type LoadFigures, verdictLines } from './verdict.js';

const TICK_MS = 50;
const WINDOW_MS = 1_000;
const DEADLINE_MS = 2_000;

export const RATE = Number(process.env.BRIDGE_BENCH_RATE ?? '1500');
const BRIDGE_SHARE = Number(process.env.BRIDGE_BENCH_BRIDGE_SHARE ?? '0.2');
const PER_TICK = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
const BRIDGE_PER_TICK = Math.round(PER_TICK * BRIDGE_SHARE);
/** The harness warms up for a quarter of BENCH_SECONDS before it measures. */
const WARMUP_MS = (Number(process.env.BENCH_SECONDS ?? '3') * 1000) / 4;

const SHAPE = 'durable devhost process, service + bridge worker in the bench process, relay process';
export const LOAD_UP = `bridge fixed load, relay up: ${RATE} sync events/s offered + ${BRIDGE_PER_TICK * (1000 / TICK_MS)} bridge events/s, ${SHAPE}`;
export const LOAD_DOWN = `bridge fixed load, relay down: ${RATE} sync events/s offered + ${BRIDGE_PER_TICK * (1000 / TICK_MS)} bridge events/s, relay stopped, outbox growing, ${SHAPE}`;

/** Figures of every finished load case, by series, for the verdict the last case prints. */
const collected = new Map<string, LoadFigures[]>();

interface Window {
  readonly measured: boolean;
  offered: number;
  appended: number;
  appendFailed: number;
  outstanding: number;
  wallMs: number;
  allDelivered?: () => void;
}

export function fixedLoadCase(round: number, relayDown: boolean, last: boolean): BenchCase {
  let stack: BridgeStack | undefined;
  let n = 0;
  let firstStart: number | undefined;
  let enqueued = 0;
  let enqueueFailed = 0;
  const windows: Window[] = [];
  const sentAt = new Map<string, { at: number; window: Window }>();
  const latencies: number[] = [];
  const cpu = new CpuWatch(() => stack);
  const series = relayDown ? LOAD_DOWN : LOAD_UP;
  let figures: LoadFigures | undefined;

  const compute = (): LoadFigures => {
    const measured = windows.filter((w) => w.measured);
    const sum = (f: (w: Window) => number) => measured.reduce((a, w) => a + f(w), 0);
    const sorted = [...latencies].sort((a, b) => a - b);
    const offered = sum((w) => w.offered);
    return {
      appendRate:
        (1000 * sum((w) => w.appended)) /
        Math.max(
          1,
          sum((w) => w.wallMs),
        ),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      deliveredShare: offered === 0 ? Number.NaN : (offered - sum((w) => w.outstanding)) / offered,
      appendFailed: sum((w) => w.appendFailed),
      windows: measured.length,
    };
  };

  return {
    name: `${series} [round ${round}]`,
    series,
    opsPerRun: PER_TICK * (WINDOW_MS / TICK_MS),
    ...(relayDown ? { seriesCompareTo: LOAD_UP } : {}),
    async setup() {
      stack = await startStack(relayDown);
      stack.subscriber.conn.db.syncEvent.onInsert((_c, e) => {
        const sent = sentAt.get(e.idempotencyKey);
        if (!sent) return;
        sentAt.delete(e.idempotencyKey);
        if (sent.window.measured) latencies.push(performance.now() - sent.at);
        sent.window.outstanding--;
        if (sent.window.outstanding === 0) sent.window.allDelivered?.();
      });
    },
    async run() {
      const s = stack as BridgeStack;
      const t0 = performance.now();
      firstStart ??= t0;
      if (t0 - firstStart >= WARMUP_MS) cpu.begin();
      const w: Window = {
        measured: t0 - firstStart >= WARMUP_MS,
        offered: 0,
        appended: 0,
        appendFailed: 0,
        outstanding: 0,
        wallMs: 0,
      };
      windows.push(w);
      const done: Promise<unknown>[] = [];
      for (let tick = 0; tick < WINDOW_MS / TICK_MS; tick++) {
        const wait = t0 + tick * TICK_MS - performance.now();
        if (wait > 0) await sleep(wait);
        const events = Array.from({ length: PER_TICK }, () => eventInput(STREAM, `k${++n}`));
        const at = performance.now();
        for (const e of events) sentAt.set(e.idempotencyKey, { at, window: w });
        w.offered += events.length;
        w.outstanding += events.length;
        done.push(
          s.service.writer.appendBatch(events).then(
            () => {
              w.appended += events.length;
            },
            () => {
              w.appendFailed += events.length;
            },
          ),
        );
        for (let i = 0; i < BRIDGE_PER_TICK; i++) {
          done.push(
            s.enqueue(`b${n}-${i}`, n).then(
              () => enqueued++,
              () => enqueueFailed++,
            ),
          );
        }
      }
      const delivered = new Promise<void>((resolve) => {
        w.allDelivered = resolve;
        if (w.outstanding === 0) resolve();
      });
      await Promise.race([Promise.all([Promise.allSettled(done), delivered]), sleep(DEADLINE_MS)]);
      w.wallMs = performance.now() - t0;
    },
    metrics() {
      figures = compute();
      return {
        append_rate: figures.appendRate,
        e2e_p50_ms: figures.p50,
        e2e_p99_ms: figures.p99,
        delivered_share: figures.deliveredShare,
      };
    },
    report() {
      const f = figures ?? compute();
      collected.set(series, [...(collected.get(series) ?? []), f]);
      const lines = [
        `fixed load round ${round}, relay ${relayDown ? 'down' : 'up'}: sync appends ${Math.round(f.appendRate)}/s, end-to-end p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, delivered within ${DEADLINE_MS} ms ${(100 * f.deliveredShare).toFixed(2)} % over ${f.windows} windows (${f.appendFailed} appends failed); bridge events enqueued ${enqueued} (${enqueueFailed} failed), outbox at the end ${stack?.service.bridge?.depth ?? 'n/a'} pending`,
        cpu.note() ?? 'CPU: n/a',
      ];
      if (last) lines.push(...verdictLines(collected.get(LOAD_UP) ?? [], collected.get(LOAD_DOWN) ?? []));
      return lines;
    },
    async teardown() {
      await stack?.teardown();
    },
  };
}
