/**
 * kill -9 while appending. A child process appends under a real fsync policy and reports every offset
 * once waitDurable resolves; the parent kills it at a random moment, reopens the directory, and checks
 * that everything reported durable came back with exactly its rows, nothing past the last append, and
 * that the next round continues from there on the same directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDurability } from './index.js';
import { comparable, SetModel } from './testing/crash-model.js';
import { removeTempDataDirs, tempDataDir, warnings } from './testing/fixtures.js';

afterEach(removeTempDataDirs);

const CHILD = fileURLToPath(new URL('./testing/crash-child.ts', import.meta.url));

/** Small seeded PRNG so a failing run can be replayed from the seed in the failure message. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Round {
  readonly recoveredAtStart: bigint;
  readonly lastAppended: bigint;
  readonly lastDurable: bigint;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Runs the child until it has reported `durableTarget` more durable offsets, then SIGKILLs it. */
function runAndKill(args: string[], durableTarget: number, extraDelayMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let recoveredAtStart: bigint | undefined;
    let lastAppended = -1n;
    let lastDurable = -1n;
    let durableSeen = 0;
    let killScheduled = false;
    let pending = '';
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.stdout?.on('data', (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [tag, value] = line.split(' ');
        const offset = BigInt(value ?? 'NaN');
        if (tag === 'R') recoveredAtStart = offset;
        else if (tag === 'A') lastAppended = offset;
        else if (tag === 'D') {
          // Reported in offset order; a regression would show up as a smaller number here.
          if (offset <= lastDurable)
            reject(new Error(`durable offsets out of order: ${offset} after ${lastDurable}`));
          lastDurable = offset;
          durableSeen++;
        }
      }
      if (!killScheduled && recoveredAtStart !== undefined && durableSeen >= durableTarget) {
        killScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
      }
    });
    child.on('error', reject);
    // 'close' comes after the stdio streams are drained: every line the child wrote has been read.
    child.on('close', (_code, signal) => {
      if (recoveredAtStart === undefined) reject(new Error(`child never started: ${stderr}`));
      else resolve({ recoveredAtStart, lastAppended, lastDurable, signal, stderr });
    });
  });
}

describe('kill -9 while appending', () => {
  it.each([
    ['always', 'always'],
    ['an fsync interval', '3'],
  ])(
    'loses nothing reported durable under fsync %s, over several crashes of one directory',
    async (_, fsync) => {
      const seed = Date.now() >>> 0;
      const random = prng(seed);
      const dir = tempDataDir();
      // Small segments and frequent snapshots so kills land during rotations and snapshot writes too.
      const args = [dir, fsync, '8192', '150'];
      const model = new SetModel();
      let recovered = -1n;
      for (let round = 0; round < 6; round++) {
        const context = `seed ${seed}, round ${round}`;
        const target = Math.floor(random() * 400);
        const run = await runAndKill(args, target, Math.floor(random() * 15));
        expect(run.signal, `${context}: child ended by itself\n${run.stderr}`).toBe('SIGKILL');
        expect(run.recoveredAtStart, context).toBe(recovered);

        const w = warnings();
        const d = openDurability(dir, {
          fsync: 'always',
          schemaHash: 'crash-workload',
          onWarning: w.onWarning,
        });
        const offset = d.recovered.offset;
        expect(offset, `${context}: lost durable txs`).toBeGreaterThanOrEqual(run.lastDurable);
        expect(offset, `${context}: recovered txs never appended`).toBeLessThanOrEqual(run.lastAppended);
        expect(comparable(d.recovered), context).toEqual(comparable(model.advanceTo(offset).image()));
        await d.close();
        recovered = offset;
      }
    },
    60_000,
  );
});
