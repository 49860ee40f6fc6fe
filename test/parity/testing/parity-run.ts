/**
 * Test-only: what the dual-stack parity tests share — the topics the legacy lane serves, a resuming
 * collector on each lane of a dual stack, a parity run that collects while a workload runs and then
 * settles, and the rows each lane delivered.
 */

import { afterAll, beforeAll } from 'vitest';
import { CandidateCollector } from '../../../parity/collect/candidate.js';
import { LegacyCollector } from '../../../parity/collect/legacy.js';
import { type RunResult, runParity } from '../../../parity/harness.js';
import { GEN1_RULES, LaneMapping } from '../../../parity/mapping.js';
import type { CandidateEntry, LegacyEntry } from '../../../parity/observation.js';
import { DualStack } from './dual-stack.js';

type DualStackOptions = Parameters<typeof DualStack.start>[1];

export const RUNS = 'runtime.run_summaries';
export const WORKER_SUMMARIES = 'runtime.codex_worker_summaries';
export const WORKER_EVENTS = 'runtime.codex_worker_events';
export const NOTES = 'runtime.notifications';
export const FAULTS = 'parity.faults';
export const SNAPSHOT = 'parity.snapshot';
/** Every topic the tests' legacy lanes serve. */
export const SERVED = [
  RUNS,
  WORKER_SUMMARIES,
  WORKER_EVENTS,
  NOTES,
  FAULTS,
  SNAPSHOT,
  'parity.cli',
  'parity.shadow',
];

/** Lanes of this file's own (started before its tests, stopped after), handed to `use`. */
export function ownLanes(use: (stack: DualStack) => void, options?: DualStackOptions): void {
  let stack: DualStack | undefined;
  beforeAll(async () => {
    stack = await DualStack.start(SERVED, options);
    use(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });
}

export function collectors(
  stack: DualStack,
  topics: readonly string[],
  streams: readonly string[],
  from: { legacy?: Map<string, bigint>; candidate?: Map<string, bigint> } = {},
) {
  const legacy = new LegacyCollector(
    { url: stack.legacy.url, token: async () => stack.legacyToken },
    topics,
    from.legacy,
  );
  const candidate = new CandidateCollector(
    { uri: stack.candidateUri, database: stack.service.database, token: stack.ownerToken },
    streams,
    from.candidate,
  );
  return { legacy, candidate };
}

/** Starts a run that collects until `workload` finishes, then settles. */
export function parity(
  c: ReturnType<typeof collectors>,
  topics: readonly string[],
  streams: readonly string[],
  workload: () => Promise<void>,
  settleMs = 30_000,
): Promise<RunResult> {
  let done!: () => void;
  const until = new Promise<void>((r) => {
    done = r;
  });
  const run = runParity({
    ...c,
    scope: { topics: new Set(topics), streams: new Set(streams), horizon: false },
    mapping: new LaneMapping(GEN1_RULES),
    durationMs: 0,
    settleMs,
    until,
  });
  return Promise.all([run, workload().finally(done)]).then(([result]) => result);
}

export const updates = (entries: readonly LegacyEntry[], topic?: string) =>
  entries.flatMap((e) =>
    e.kind === 'update' && (topic === undefined || e.update.topic === topic) ? [e.update] : [],
  );
export const events = (entries: readonly CandidateEntry[], stream: string) =>
  entries.flatMap((e) => (e.kind === 'event' && e.event.streamId === stream ? [e.event] : []));
