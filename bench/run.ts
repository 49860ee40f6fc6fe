/**
 * `npm run bench [-- <regex>]`: runs every `bench/*.bench.ts` suite (each default-exports a function
 * returning its cases), filters cases by the regex, and prints the machine, one table (each case with
 * its ceiling and target) and the ratios. Cases that compare with each other are measured in this
 * same run so their ratios mean something. The run is appended as JSON to `bench/results/`.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { setGlobalLogLevel } from 'spacetimedb';
import {
  type BenchCase,
  type BenchResult,
  formatRatios,
  formatSeries,
  formatTable,
  measure,
  targetMet,
} from './harness.js';
import { describeMachine, machineLine } from './machine.js';

type Suite = () => Promise<BenchCase[]> | BenchCase[];

async function main(argv: string[]): Promise<void> {
  const filter = argv[0] ? new RegExp(argv[0]) : undefined;
  const seconds = Number(process.env.BENCH_SECONDS ?? '3');
  const dir = new URL('.', import.meta.url);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const results: BenchResult[] = [];
  // The SDK's own connection chatter would interleave with the table.
  setGlobalLogLevel('warn');
  const machine = describeMachine();
  const started = new Date();
  console.log(machineLine(machine));
  for (const file of files) {
    const suite = (await import(new URL(file, dir).href)) as { default: Suite };
    for (const c of await suite.default()) {
      if (filter && !filter.test(c.name)) continue;
      process.stderr.write(`running ${c.name}…\n`);
      results.push(await measure(c, { seconds, maxRuns: 1_000_000 }));
    }
  }
  console.log(machineLine(machine));
  console.log(formatTable(results));
  for (const line of [
    ...formatRatios(results),
    ...formatSeries(results),
    ...results.flatMap((r) => (r.notes ?? []).map((n) => `${r.name}: ${n}`)),
  ])
    console.log(line);
  const file = record(machine, started, seconds, results);
  console.log(`recorded in ${file}`);
}

/** Appends the run to bench/results/ as one JSON file per run (date and commit in the name). */
function record(
  machine: ReturnType<typeof describeMachine>,
  started: Date,
  seconds: number,
  results: readonly BenchResult[],
): string {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const byName = new Map(results.map((r) => [r.name, r]));
  const name = `${started.toISOString().replaceAll(':', '-').replace(/\..*$/, '')}-${machine.commit}.json`;
  const body = {
    started: started.toISOString(),
    machine: { ...machine, loadAtEnd: os.loadavg()[0] ?? 0 },
    benchSeconds: seconds,
    results: results.map((r) => ({ ...r, targetMet: targetMet(r, byName) })),
  };
  const url = new URL(name, dir);
  writeFileSync(url, `${JSON.stringify(body, null, 2)}\n`);
  return url.pathname;
}

await main(process.argv.slice(2));
