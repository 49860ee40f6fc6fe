/**
 * The gates' window over live figures, pure: the controller samples the service's cumulative counters
 * (parity, dead letters, rebootstraps, auth failures, the probe's fan-out histogram) and the consumer
 * lag gauge every tick; the readings are what happened between the newest sample and the last one at
 * or before the window's start. A counter that went down was reset (the process or the shadow
 * restarted): the later value is then what happened since.
 *
 * Parity mismatches are read from a later start when one is given (`parityFromMs`): divergences
 * recorded before the current stage began are no evidence about it. Shadow parity records a divergence
 * only once its grace has passed, so the rollback watch starts the stage's parity evidence a grace after
 * the stage began — a divergence of an event from before the stage, recorded late, does not roll the new
 * stage back — and reads "not measured" (never a breach) until then.
 */
import type { GateReadings } from './gates.js';

export interface HistogramSample {
  /** Cumulative bucket counts by upper bound (`le`), ascending, without +Inf. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly count: number;
}

export interface GateSample {
  readonly atMs: number;
  /** Cumulative counters; undefined when the source is not running / not exported. */
  readonly parityMismatches?: number | undefined;
  readonly parityCompared?: number | undefined;
  readonly deadLetters?: number | undefined;
  readonly rebootstraps?: number | undefined;
  readonly authFailures?: number | undefined;
  readonly fanout?: HistogramSample | undefined;
  /** A gauge: the newest value is the reading. */
  readonly consumerLag?: number | undefined;
}

type CounterKey = 'parityMismatches' | 'parityCompared' | 'deadLetters' | 'rebootstraps' | 'authFailures';

/** Increase over consecutive values, counting a drop as a reset. */
function increase(values: readonly (number | undefined)[]): number | undefined {
  const vs = values.filter((v): v is number => v !== undefined);
  if (vs.length === 0) return undefined;
  let sum = 0;
  for (let i = 1; i < vs.length; i++) {
    const [a, b] = [vs[i - 1] as number, vs[i] as number];
    sum += b >= a ? b - a : b;
  }
  return sum;
}

/** Prometheus' histogram_quantile over bucket increases: linear inside the bucket holding the rank. */
export function quantile(
  q: number,
  older: HistogramSample | undefined,
  newer: HistogramSample,
): number | undefined {
  const reset = older !== undefined && newer.count < older.count;
  const base = reset ? undefined : older;
  const total = newer.count - (base?.count ?? 0);
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of newer.buckets) {
    const c = b.count - (base?.buckets.find((x) => x.le === b.le)?.count ?? 0);
    if (c >= rank) {
      const inBucket = c - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = c;
  }
  // The rank lies in +Inf: like Prometheus, the highest finite bound (still above any sane SLO).
  return prevLe;
}

export class GateWindow {
  private samples: GateSample[] = [];

  /** A counter's increase since `fromMs`: from the last sample at or before it (or the window's first). */
  private increaseFrom(k: CounterKey, fromMs: number): number | undefined {
    const newest = this.samples.at(-1);
    if (!newest || newest.atMs < fromMs) return undefined;
    let base = 0;
    this.samples.forEach((x, i) => {
      if (x.atMs <= fromMs) base = i;
    });
    return increase(this.samples.slice(base).map((x) => x[k]));
  }

  constructor(private windowMs: number) {}

  setWindow(ms: number): void {
    this.windowMs = ms;
  }

  push(s: GateSample): void {
    this.samples.push(s);
    // Keep one sample at or before the window's start as the baseline.
    const start = s.atMs - this.windowMs;
    let firstInside = this.samples.findIndex((x) => x.atMs > start);
    if (firstInside < 0) firstInside = this.samples.length - 1;
    this.samples = this.samples.slice(Math.max(0, firstInside - 1));
  }

  /**
   * Readings over the window; `stageAgeMs` is the soak. Undefined readings were not measured.
   * `parityFromMs`: parity mismatches count only from then on (the window's start when later).
   */
  readings(stageAgeMs: number, parityFromMs?: number): GateReadings {
    const newest = this.samples.at(-1);
    const perMin = (n: number | undefined) => (n === undefined ? undefined : (n * 60_000) / this.windowMs);
    const inc = (k: CounterKey) => increase(this.samples.map((s) => s[k]));
    let fanout: number | undefined;
    // One sample is no window yet: like the counters, the histogram reads nothing until a second.
    if (newest?.fanout && this.samples.length > 1) {
      const q = quantile(0.99, this.samples[0]?.fanout, newest.fanout);
      fanout = q === undefined ? undefined : q * 1000;
    }
    return {
      parity_mismatches:
        parityFromMs === undefined
          ? inc('parityMismatches')
          : this.increaseFrom('parityMismatches', parityFromMs),
      parity_compared: inc('parityCompared'),
      fanout_p99_ms: fanout,
      dead_letters_per_min: perMin(inc('deadLetters')),
      consumer_lag: newest?.consumerLag,
      rebootstraps_per_min: perMin(inc('rebootstraps')),
      auth_failures_per_min: perMin(inc('authFailures')),
      soak_ms: stageAgeMs,
    };
  }
}
