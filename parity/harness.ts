/**
 * The parity run: both lanes' resuming clients collect side by side for a while (replay from their
 * chosen positions, then the live tail; restarts of either lane are ridden out by the clients' own
 * reconnects), then the run waits — at most `settleMs` — for the candidate to deliver what the legacy
 * lane delivered, and classifies. A run is a state machine so a stop request (SIGINT, the test) or a
 * collector failure during any await is seen at the next step.
 */
import { type Classification, type ClassifyOptions, classify } from './classify.js';
import type { LaneMapping } from './mapping.js';
import type { CandidateEntry, LegacyEntry, Scope } from './observation.js';

/** One lane's client as the harness drives it. */
export interface Collector<E> {
  readonly entries: readonly E[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One phrase for the progress line (state, position). */
  describe(): string;
  /** Set when the client gave up for good (refused, closed itself): the run ends with it. */
  readonly failure: string | undefined;
}

export interface RunOptions extends ClassifyOptions {
  readonly legacy: Collector<LegacyEntry>;
  readonly candidate: Collector<CandidateEntry>;
  readonly scope: Scope;
  readonly mapping: LaneMapping;
  /** How long to collect (replay and live tail) before settling. */
  readonly durationMs: number;
  /** After that, how long to wait for both lanes to agree before classifying what there is. */
  readonly settleMs: number;
  readonly progressEveryMs?: number;
  onProgress?(line: string): void;
  readonly signal?: AbortSignal;
  /** Collect until this resolves instead of for durationMs (tests drive the workload). */
  readonly until?: Promise<unknown>;
}

export type RunState =
  | { readonly t: 'collecting'; readonly sinceMs: number }
  | { readonly t: 'settling'; readonly sinceMs: number }
  | { readonly t: 'done'; readonly why: 'agreed' | 'settle_timeout' | 'stopped' }
  | { readonly t: 'failed'; readonly lane: 'legacy' | 'candidate'; readonly why: string };

export interface RunResult {
  readonly state: Extract<RunState, { t: 'done' | 'failed' }>;
  readonly classification: Classification;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
}

/** Events one lane has that the other lacks: what settling waits out. */
const unsettled = (c: Classification) => c.counts.missing + c.counts.extra;

export async function runParity(o: RunOptions): Promise<RunResult> {
  const startedAtMs = Date.now();
  let state: RunState = { t: 'collecting', sinceMs: startedAtMs };
  const check = (): RunState => {
    if (state.t === 'done' || state.t === 'failed') return state;
    if (o.legacy.failure) return { t: 'failed', lane: 'legacy', why: o.legacy.failure };
    if (o.candidate.failure) return { t: 'failed', lane: 'candidate', why: o.candidate.failure };
    if (o.signal?.aborted) return { t: 'done', why: 'stopped' };
    return state;
  };
  const snapshot = () =>
    classify({ legacy: o.legacy.entries, candidate: o.candidate.entries }, o.scope, o.mapping, o);
  let collectDone = false;
  void o.until?.then(
    () => (collectDone = true),
    () => (collectDone = true),
  );
  let lastProgress = 0;
  const progress = (force = false) => {
    const now = Date.now();
    if (!o.onProgress || (!force && now - lastProgress < (o.progressEveryMs ?? 1000))) return;
    lastProgress = now;
    o.onProgress(
      `[${((now - startedAtMs) / 1000).toFixed(0)}s ${state.t}] legacy ${count(o.legacy.entries, 'update')} updates (${o.legacy.describe()}), candidate ${count(o.candidate.entries, 'event')} events (${o.candidate.describe()})`,
    );
  };
  try {
    await Promise.all([o.legacy.start(), o.candidate.start()]);
    for (;;) {
      state = check();
      if (state.t === 'done' || state.t === 'failed') break;
      progress();
      const now = Date.now();
      if (state.t === 'collecting') {
        const over = o.until ? collectDone : now - state.sinceMs >= o.durationMs;
        if (over) state = { t: 'settling', sinceMs: now };
      } else if (state.t === 'settling') {
        if (unsettled(snapshot()) === 0) state = { t: 'done', why: 'agreed' };
        else if (now - state.sinceMs >= o.settleMs) state = { t: 'done', why: 'settle_timeout' };
        if (state.t === 'done') break;
      }
      await new Promise((r) => setTimeout(r, state.t === 'settling' ? 250 : 100));
    }
  } finally {
    await Promise.allSettled([o.legacy.stop(), o.candidate.stop()]);
  }
  progress(true);
  const final = state as Extract<RunState, { t: 'done' | 'failed' }>;
  return { state: final, classification: snapshot(), startedAtMs, endedAtMs: Date.now() };
}

function count<E extends { kind: string }>(entries: readonly E[], kind: string): number {
  let n = 0;
  for (const e of entries) if (e.kind === kind) n++;
  return n;
}
