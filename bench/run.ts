/**
 * `npm run bench [-- <regex>]`: runs every `bench/*.bench.ts` suite (each default-exports a function
 * returning its cases), filters cases by the regex, and prints one table. Cases that compare with each
 * other are measured in this same run so their ratios mean something.
 */
import { readdirSync } from 'node:fs';
import { setGlobalLogLevel } from 'spacetimedb';
import {
  type BenchCase,
  type BenchResult,
  environmentLine,
  formatRatios,
  formatTable,
  measure,
} from './harness.js';

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
  console.log(environmentLine());
  for (const file of files) {
    const suite = (await import(new URL(file, dir).href)) as { default: Suite };
    for (const c of await suite.default()) {
      if (filter && !filter.test(c.name)) continue;
      process.stderr.write(`running ${c.name}…\n`);
      results.push(await measure(c, { seconds, maxRuns: 1_000_000 }));
    }
  }
  console.log(formatTable(results));
  for (const line of [
    ...formatRatios(results),
    ...results.flatMap((r) => (r.notes ?? []).map((n) => `${r.name}: ${n}`)),
  ])
    console.log(line);
}

await main(process.argv.slice(2));
