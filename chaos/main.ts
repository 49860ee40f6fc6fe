/**
 * `npm run chaos [-- --long] [--report FILE] [--keep]`: the fault campaign against real processes.
 * Short mode (default): every fault kind once, then a few combined rounds. `--long`: every kind
 * once, then rounds composed toward the kill targets (CHAOS_TARGETS, default issue 17's counts; see
 * targets.ts) until they are reached, CHAOS_ROUNDS rounds or CHAOS_MINUTES minutes; CHAOS_TARGETS=none
 * gives random combined rounds instead. CHAOS_SEED replays a run's choices.
 * Prints a progress line per round and the "Faults survived" table; exit 0 when the invariant checker
 * found nothing, 1 when it found violations, 2 on a usage error, 3 when the system could not be started.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../adapter/telemetry/logger.js';
import { routeSdkLogs } from '../adapter/telemetry/sdk-logs.js';
import { FAULT_KINDS, type FaultKind } from './faults.js';
import { renderTable, reportJson } from './report.js';
import { runChaos } from './runner.js';
import { parseTargets } from './targets.js';

const HELP = `usage: npm run chaos [-- --long] [--report FILE] [--keep]
  --long          every kind once, then combined rounds toward the kill targets (storms of adapter and
                  client kills, devhost crashes, broker restarts) until CHAOS_TARGETS are reached,
                  CHAOS_ROUNDS (default 100000) rounds or CHAOS_MINUTES (default 60) pass
  --report FILE   also write the report as JSON (and the table as FILE.md)
  --keep          keep the work dir (broker, devhost data, client journals); kept anyway on violations
env: CHAOS_ROUNDS, CHAOS_MINUTES, CHAOS_SEED, CHAOS_ADAPTERS (3), CHAOS_CLIENTS (4),
     CHAOS_FAULTS (comma-separated kinds, default all: ${FAULT_KINDS.join(', ')}),
     CHAOS_LEGACY=0 (no legacy lane: no legacy faults, no parity check),
     CHAOS_TARGETS (--long: adapter_kills=1000,devhost_crashes=100,broker_restarts=20,client_kills=1000
       by default, names left out keep theirs; 'none': random combined rounds, 1-3 kinds each),
     CHAOS_STORM_STEPS (kill steps per storm round, MIN-MAX; default 3-6 with --long, 2-2 without)
exit: 0 no violation, 1 violations or a fault the system did not recover from, 2 usage, 3 the system could not be started`;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number, not ${raw}`);
    process.exit(2);
  }
  return n;
}

let args: ReturnType<
  typeof parseArgs<{
    options: {
      long: { type: 'boolean' };
      report: { type: 'string' };
      keep: { type: 'boolean' };
      help: { type: 'boolean' };
    };
  }>
>;
try {
  args = parseArgs({
    options: {
      long: { type: 'boolean' },
      report: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
} catch (e) {
  console.error(`${(e as Error).message}\n${HELP}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}
// The runner's own SDK connections (head watcher, collector) report every fault it injects; the
// SDK has no logger hook, so its console lines are routed away as the service routes them.
routeSdkLogs(createLogger({ level: 'silent' }));
const long = args.values.long === true;
const kinds = (process.env.CHAOS_FAULTS ?? '').split(',').filter((k) => k !== '');
const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
if (unknown.length > 0) {
  console.error(`CHAOS_FAULTS: unknown fault kinds ${unknown.join(', ')}\n${HELP}`);
  process.exit(2);
}
const targetsRaw = process.env.CHAOS_TARGETS ?? '';
const targets = !long || targetsRaw === 'none' ? undefined : parseTargets(targetsRaw);
if (targets instanceof Error) {
  console.error(`CHAOS_TARGETS: ${targets.message}\n${HELP}`);
  process.exit(2);
}
const stepsRaw = process.env.CHAOS_STORM_STEPS ?? (long ? '3-6' : '2-2');
const steps = /^(\d+)-(\d+)$/.exec(stepsRaw);
if (!steps || Number(steps[1]) < 1 || Number(steps[1]) > Number(steps[2])) {
  console.error(`CHAOS_STORM_STEPS must be MIN-MAX (1 <= MIN <= MAX), not ${stepsRaw}\n${HELP}`);
  process.exit(2);
}
const rounds = intEnv(
  'CHAOS_ROUNDS',
  long ? (targets ? 100_000 : 1000) : (kinds.length || FAULT_KINDS.length) + 2,
);
const minutes = intEnv('CHAOS_MINUTES', long ? 60 : 10);
const seed = intEnv('CHAOS_SEED', Math.floor(Math.random() * 2 ** 31));
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const meta = { date: new Date().toISOString().slice(0, 10), commit };

let report: Awaited<ReturnType<typeof runChaos>>;
try {
  report = await runChaos({
    rounds,
    minutes,
    seed,
    adapters: intEnv('CHAOS_ADAPTERS', 3),
    clients: intEnv('CHAOS_CLIENTS', 4),
    streams: 8,
    partitions: 6,
    eventsPerRound: 200,
    maxCombined: long ? 3 : 2,
    legacy: process.env.CHAOS_LEGACY !== '0',
    ...(kinds.length > 0 ? { kinds: kinds as FaultKind[] } : {}),
    firstEach: true,
    checkEvery: long ? 50 : 0,
    ...(targets ? { targets } : {}),
    stormSteps: [Number(steps[1]), Number(steps[2])],
    keepDir: args.values.keep === true,
    log: (line) => console.log(line),
  });
} catch (e) {
  console.error(`chaos: could not run: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(3);
}
const table = renderTable(report, meta);
console.log(`\n${table}`);
if (args.values.report) {
  writeFileSync(args.values.report, reportJson(report, meta));
  writeFileSync(`${args.values.report}.md`, `${table}\n`);
}
process.exit(report.violations.length === 0 && report.failures.length === 0 ? 0 : 1);
