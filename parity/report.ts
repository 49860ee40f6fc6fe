/**
 * A parity run as a JSON report (schema `spacetime-sync.parity.v1`) and as the human summary the CLI
 * prints: totals, time to parity, divergences by class, and the first divergence with both sides'
 * bytes.
 */
import type { CandidateSide, Divergence, LegacySide } from './classify.js';
import type { RunResult } from './harness.js';

export interface ReportContext {
  readonly legacy: { readonly url: string; readonly topics: readonly string[] };
  readonly candidate: {
    readonly uri: string;
    readonly database: string;
    readonly streams: readonly string[];
  };
  readonly volatileFields: readonly string[];
}

export interface ParityReport {
  readonly schema: 'spacetime-sync.parity.v1';
  /** True only when the run finished and found no divergence. */
  readonly ok: boolean;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly end: RunResult['state'];
  readonly legacy: ReportContext['legacy'];
  readonly candidate: ReportContext['candidate'];
  readonly volatileFields: readonly string[];
  readonly compared: number;
  readonly legacyEvents: number;
  readonly candidateEvents: number;
  readonly outOfScope: { readonly legacy: number; readonly candidate: number };
  readonly beforeHorizon: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly timeToParityMs: RunResult['classification']['timeToParityMs'];
  readonly firstDivergence: Divergence | null;
  /** Every divergence, earliest first (the first 1000; `counts` has the totals). */
  readonly divergences: readonly Divergence[];
}

export const MAX_REPORTED_DIVERGENCES = 1000;

export function buildReport(run: RunResult, ctx: ReportContext): ParityReport {
  const c = run.classification;
  return {
    schema: 'spacetime-sync.parity.v1',
    ok: run.state.t === 'done' && run.state.why !== 'stopped' && c.divergences.length === 0,
    startedAt: new Date(run.startedAtMs).toISOString(),
    endedAt: new Date(run.endedAtMs).toISOString(),
    end: run.state,
    legacy: ctx.legacy,
    candidate: ctx.candidate,
    volatileFields: ctx.volatileFields,
    compared: c.compared,
    legacyEvents: c.legacyEvents,
    candidateEvents: c.candidateEvents,
    outOfScope: c.outOfScope,
    beforeHorizon: c.beforeHorizon,
    counts: c.counts,
    timeToParityMs: c.timeToParityMs,
    firstDivergence: c.divergences[0] ?? null,
    divergences: c.divergences.slice(0, MAX_REPORTED_DIVERGENCES),
  };
}

const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);

function legacyLine(l: LegacySide | undefined): string {
  if (!l) return '  legacy:    (nothing)';
  return `  legacy:    topic ${l.topic} watermark ${l.watermark} doc_key ${l.docKey} doc_version ${l.docVersion} payload_hash ${l.payloadHash ?? 'null'}\n             payload ${l.payload ?? 'null (pointer mode)'}`;
}

function candidateLine(c: CandidateSide | undefined): string {
  if (!c) return '  candidate: (nothing)';
  return `  candidate: stream ${c.streamId} seq ${c.seq} idempotency_key ${c.idempotencyKey} payload_hash ${c.payloadHash}\n             payload ${c.payload}`;
}

export function describeDivergence(d: Divergence): string {
  const where = [
    d.topic && `topic ${d.topic}`,
    d.streamId && `stream ${d.streamId}`,
    d.lane && `lane ${d.lane}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${d.class} (${where}): ${d.detail}\n${legacyLine(d.legacy)}\n${candidateLine(d.candidate)}`;
}

export function summarize(r: ParityReport): string {
  const lines: string[] = [];
  const end =
    r.end.t === 'failed'
      ? `FAILED (${r.end.lane}: ${r.end.why})`
      : { agreed: 'lanes agreed', settle_timeout: 'settle time ran out', stopped: 'stopped early' }[
          r.end.why
        ];
  lines.push(
    `parity ${r.ok ? 'OK' : 'DIVERGED'}: ${r.compared} events compared (legacy ${r.legacyEvents}, candidate ${r.candidateEvents}; out of scope ${r.outOfScope.legacy}/${r.outOfScope.candidate}${r.beforeHorizon ? `, ${r.beforeHorizon} before the horizon` : ''}); ${end}`,
  );
  const t = r.timeToParityMs;
  lines.push(
    `time to parity (candidate − legacy): p50 ${ms(t.p50Ms)}, p90 ${ms(t.p90Ms)}, p99 ${ms(t.p99Ms)}, max ${ms(t.maxMs)} over ${t.count}`,
  );
  const classes = Object.entries(r.counts).filter(([, n]) => n > 0);
  lines.push(
    classes.length ? `divergences: ${classes.map(([k, n]) => `${k} ${n}`).join(', ')}` : 'divergences: none',
  );
  if (r.firstDivergence) lines.push(`first divergence: ${describeDivergence(r.firstDivergence)}`);
  return lines.join('\n');
}
