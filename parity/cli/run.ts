/**
 * The `parity` command's run: finds the candidate's streams, starts both collectors, prints a
 * progress line a second on stderr, then the summary on stdout and the JSON report to --json.
 */
import { writeFile } from 'node:fs/promises';
import { setGlobalLogLevel } from 'spacetimedb';
import { ExitCode, UnreachableError } from '../../cli/exit-codes.js';
import { CandidateCollector } from '../collect/candidate.js';
import { LegacyCollector } from '../collect/legacy.js';
import { readStreams } from '../collect/streams.js';
import { runParity } from '../harness.js';
import { LaneMapping } from '../mapping.js';
import { buildReport, summarize } from '../report.js';
import type { ParityArgs } from './options.js';

/** The delivery probe's own stream (adapter/spacetime/delivery-probe.ts) carries no authority event. */
const INTERNAL_STREAMS = new Set(['spacetime-sync.probe']);

export async function runParityCommand(args: ParityArgs): Promise<number> {
  setGlobalLogLevel('warn');
  const target = {
    uri: args.candidateUri,
    database: args.database,
    ...(args.candidateToken ? { token: args.candidateToken } : {}),
    // Sharded: each stream is read from its shard (the one routing function).
    ...(args.candidateShards ? { shards: args.candidateShards } : {}),
  };
  let streams: string[];
  try {
    const known = await readStreams(target);
    streams = args.streams ? [...args.streams] : [...known.keys()].filter((s) => !INTERNAL_STREAMS.has(s));
  } catch (e) {
    throw new UnreachableError(`the candidate: ${(e as Error).message}`);
  }
  const legacy = new LegacyCollector(
    { url: args.legacyUrl, token: async () => args.legacyToken() },
    args.topics,
    args.legacyFrom,
  );
  const candidate = new CandidateCollector(target, streams, args.candidateFrom);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const run = await runParity({
      legacy,
      candidate,
      scope: {
        topics: new Set(args.topics),
        streams: new Set(streams),
        horizon: args.legacyFrom.size > 0 || args.candidateFrom.size > 0,
      },
      mapping: new LaneMapping(args.rules),
      volatileFields: args.volatileFields,
      durationMs: args.durationMs,
      settleMs: args.settleMs,
      signal: stop.signal,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    const report = buildReport(run, {
      legacy: { url: args.legacyUrl, topics: args.topics },
      candidate: { uri: args.candidateUri, database: args.database, streams },
      volatileFields: args.volatileFields,
    });
    if (args.jsonPath) await writeFile(args.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    console.log(summarize(report));
    if (run.state.t === 'failed') {
      throw new UnreachableError(`the ${run.state.lane} lane: ${run.state.why}`);
    }
    return report.ok ? ExitCode.Ok : ExitCode.NotOk;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
