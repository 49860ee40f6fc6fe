/**
 * When the Kafka consumer must be replaced: it crashed and kafkajs gave up on it (it would never
 * consume again), or a batch has run without committing for longer than the limit (stuck, e.g.
 * SpacetimeDB unreachable while kafkajs keeps the session alive). The watchdog only decides and
 * ticks; the restart itself is the lifecycle's (kafka-source.ts), which re-checks the state after
 * every await so a stop() that lands meanwhile wins.
 */
import type { SourceState } from './lifecycle.js';

/** Progress as the watchdog sees it: batches in flight and when the last commit (or idle batch end) was. */
export class ProgressWatch {
  private running = 0;
  private last: number;

  constructor(private readonly now: () => number = Date.now) {
    this.last = now();
  }

  batchStarted(): void {
    this.running++;
  }

  batchEnded(): void {
    this.running--;
    if (this.running === 0) this.last = this.now();
  }

  /** A commit: the consumer moves. */
  progressed(): void {
    this.last = this.now();
  }

  /** How long a running batch has gone without progress; 0 while no batch runs (idle is not stuck). */
  stalledMs(): number {
    return this.running > 0 ? this.now() - this.last : 0;
  }
}

/** Why the consumer must be restarted now, or undefined when it must not (pure: the tests drive it). */
export function restartReason(life: SourceState, stalledMs: number, limitMs: number): string | undefined {
  if (life.kind === 'crashed') return `crashed: ${life.error}`;
  if (life.kind === 'running' && stalledMs >= limitMs) return 'no progress';
  return undefined;
}

/** Calls `check` a few times per limit until stopped; never keeps the process alive on its own. */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly check: () => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(this.check, Math.max(100, this.limitMs / 4));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
