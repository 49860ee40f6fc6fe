/**
 * The fuzz targets' common frame. In `npm test` each target runs `ciRuns` cases (the whole suite well
 * under a minute); `npm run fuzz` sets FUZZ_LONG=1 and each target runs FUZZ_RUNS cases (default
 * 1,000,000), optionally capped by FUZZ_MINUTES per target, printing progress and, at the end, the
 * cases run and the heap before and after (after a full GC) — the figures the README reports. Those
 * lines are also appended to FUZZ_REPORT when it is set.
 *
 * All fuzz targets live in this folder; the devhost ones drive decoders the package does not export,
 * so this folder alone may import devhost's internals (biome.json's devhost import rule skips it).
 */
import { appendFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';

export const LONG = process.env.FUZZ_LONG === '1';
const LONG_RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const MINUTES = Number(process.env.FUZZ_MINUTES ?? 0);

/** Per-test timeout for vitest: bounded in CI, the cap (or a day) in the long mode. */
export const fuzzTimeout = (ciMs = 60_000): number =>
  LONG ? (MINUTES > 0 ? MINUTES * 60_000 + 120_000 : 24 * 3_600_000) : ciMs;

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const heapMiB = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function say(line: string): void {
  process.stderr.write(`${line}\n`);
  if (LONG && process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, `${line}\n`);
}

export interface FuzzResult {
  readonly cases: number;
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
}

/**
 * Runs `check` on `ciRuns` (or the long mode's count of) inputs from `input`; `check` throws (or
 * rejects) only when the target broke its contract, and fast-check then shrinks to the smallest
 * such input. Async checks time out after `caseTimeoutMs`: a hang is a failure, not a stuck run.
 *
 * `parallel` (live targets): each fast-check run is that many inputs checked at once against the
 * same server, so a round trip's wait is filled by the next input's work and the server also sees
 * them interleaved. Every input is still one case with its own check; a failing run shrinks to the
 * input that broke the contract (the others shrink towards their smallest values beside it).
 */
export async function fuzz<T>(
  target: string,
  input: fc.Arbitrary<T>,
  check: (value: T) => void | Promise<void>,
  o: {
    readonly ciRuns: number;
    readonly caseTimeoutMs?: number;
    readonly seed?: number;
    readonly parallel?: number;
  },
): Promise<FuzzResult> {
  const cases = LONG ? LONG_RUNS : o.ciRuns;
  const parallel = Math.max(1, o.parallel ?? 1);
  const heapBeforeMiB = LONG ? heapMiB() : 0;
  let done = 0;
  const started = Date.now();
  let lastReport = started;
  const progress = () => {
    done++;
    if (LONG && Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const rate = Math.round(done / ((lastReport - started) / 1000));
      say(`fuzz ${target}: ${done.toLocaleString('en')} / ${cases.toLocaleString('en')} cases (${rate}/s)`);
    }
  };
  const params: fc.Parameters<[T[]]> = {
    numRuns: Math.ceil(cases / parallel),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(LONG && MINUTES > 0
      ? { interruptAfterTimeLimit: MINUTES * 60_000, markInterruptAsFailure: false }
      : {}),
    ...(o.caseTimeoutMs ? { timeout: o.caseTimeoutMs } : {}),
  };
  const inputs =
    parallel === 1 ? input.map((v) => [v]) : fc.array(input, { minLength: parallel, maxLength: parallel });
  await fc.assert(
    fc.asyncProperty(inputs, async (values) => {
      if (values.length === 1) {
        progress();
        return check(values[0] as T);
      }
      // Every check runs to its end before the run is judged: none is left running while fast-check
      // shrinks, and the first failure (in input order) is the one reported.
      const outcomes = await Promise.allSettled(
        values.map(async (value) => {
          progress();
          await check(value);
        }),
      );
      const failed = outcomes.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }),
    params,
  );
  const heapAfterMiB = LONG ? heapMiB() : 0;
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  say(
    LONG
      ? `fuzz ${target}: ${done.toLocaleString('en')} cases in ${secs} s, heap ${heapBeforeMiB.toFixed(1)} MiB before, ${heapAfterMiB.toFixed(1)} MiB after`
      : `fuzz ${target}: ${done} cases in ${secs} s`,
  );
  return { cases: done, heapBeforeMiB, heapAfterMiB };
}

// ---- inputs shared by the targets ----

/** Arbitrary bytes, mostly short, sometimes up to `max`. */
export const anyBytes = (max = 4096): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: max }) },
  );

/** One edit of a byte string: flip, set, insert, delete, truncate, duplicate a span, or splice bytes. */
export type Edit =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number; readonly times: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
export const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: position,
    byte: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x22, 0x5b, 0x7b, 0x5c, 0x01, 0xfe),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: position,
    length: fc.integer({ min: 1, max: 8 }),
    times: fc.integer({ min: 2, max: 2000 }),
  }),
);

export function apply(bytes: Uint8Array, e: Edit): Uint8Array {
  const at = Math.floor(e.at * (bytes.length + 1));
  const b = Buffer.from(bytes);
  switch (e.kind) {
    case 'flip':
      if (at < b.length) b[at] = (b[at] as number) ^ (1 << e.bit);
      return b;
    case 'set':
      if (at < b.length) b[at] = e.byte;
      return b;
    case 'insert':
      return Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
    case 'truncate':
      return b.subarray(0, at);
    case 'repeat': {
      const span = b.subarray(at, at + e.length);
      return Buffer.concat([
        b.subarray(0, at),
        ...Array.from({ length: e.times }, () => span),
        b.subarray(at),
      ]);
    }
  }
}

/** A valid input from `valid`, then 1..4 edits: the inputs a parser's edge cases hide behind. */
export const mutated = (valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([bytes, edits]) => edits.reduce(apply, bytes));

/** Text mutated as UTF-8 bytes and read back (lone bytes become U+FFFD, as a socket would hand them over). */
export const mutatedText = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  mutated(valid.map((s) => new TextEncoder().encode(s))).map((b) => Buffer.from(b).toString('utf8'));
