/**
 * Fuzz: the commit-log reader on corrupted segments (`devhost/durability/`). A data directory with 40
 * committed transactions over several small segments is written out per case, then damaged: byte edits
 * (flips, overwrites, inserted and deleted bytes, truncation, repeated spans) in one or more
 * segments, a segment removed, or a stray file of arbitrary bytes added. Opening it recovers exactly a prefix
 * of the history (and appends continue after it), or refuses with the documented `DurabilityError`
 * (closed set of codes) — with and without `truncateCorrupt`; never another exception.
 *
 * Speed (a long run is 1,000,000 cases): the clean log is built once and kept in memory; each case
 * writes its damaged copy into a memory-backed directory (`scratch-dir.ts`), where the reader's fsyncs
 * cost nothing, and its result is compared with the expected image of every prefix, computed once.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DurabilityOptions, isDurabilityError, openDurability } from '../../devhost/durability/index.js';
import { comparable, SetModel, workloadTx } from '../../devhost/durability/testing/crash-model.js';
import { appendWorkload } from '../../devhost/durability/testing/fixtures.js';
import { apply, edit, fuzz, fuzzTimeout } from './fuzz.js';
import { readTree, scratchDir } from './scratch-dir.js';

const LAST = 39n;
const OPTIONS: DurabilityOptions = { fsync: 'never', segmentBytes: 2048 };
const scratch = scratchDir('commit-log-fuzz-');
/** The clean data directory: path relative to it → bytes (directories end in '/'). */
let template: Map<string, Uint8Array>;
let segmentNames: string[];
/** The printable image of the history up to each offset, -1..LAST. */
const expected = new Map<bigint, string>();

const printable = (image: Parameters<typeof comparable>[0]) => JSON.stringify(comparable(image));

beforeAll(async () => {
  const dir = join(scratch.path, 'template');
  const d = openDurability(dir, OPTIONS);
  appendWorkload(d, 0n, LAST);
  await d.close();
  template = readTree(dir);
  segmentNames = [...template.keys()]
    .filter((p) => p.startsWith('clog/') && !p.endsWith('/'))
    .map((p) => p.slice('clog/'.length))
    .sort();
  expect(segmentNames.length).toBeGreaterThan(2);
  const model = new SetModel();
  for (let at = -1n; at <= LAST; at++) expected.set(at, printable(model.advanceTo(at).image()));
});

afterAll(() => scratch.remove());

const damage = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      segments: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 2,
      }),
      edits: fc.array(edit, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('remove' as const),
      segment: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('stray' as const),
      name: fc.constantFrom('00000000000000000100.log', '00000000000000000003.log', 'x.log', '0.log'),
      bytes: fc.uint8Array({ maxLength: 256 }),
    }),
  },
);
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

/** The template with `d` applied, written out as a fresh data directory. */
let made = 0;
function damaged(d: Damage): string {
  const files = new Map(template);
  const pick = (at: number) => `clog/${segmentNames[Math.floor(at * segmentNames.length)] as string}`;
  if (d.kind === 'edit') {
    for (const at of d.segments) {
      const path = pick(at);
      files.set(path, d.edits.reduce(apply, files.get(path) as Uint8Array));
    }
  } else if (d.kind === 'remove') files.delete(pick(d.segment));
  else files.set(`clog/${d.name}`, d.bytes);
  const dir = join(scratch.path, `case-${made++}`);
  mkdirSync(dir);
  for (const [path, bytes] of files) {
    if (path.endsWith('/')) mkdirSync(join(dir, path), { recursive: true });
    else writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

describe('fuzz: commit-log reader on corrupted segments', () => {
  it(
    'recovers a prefix or refuses with a DurabilityError, with and without truncateCorrupt',
    async () => {
      await fuzz(
        'commit-log/damaged',
        fc.tuple(damage, fc.boolean()),
        async ([d, truncateCorrupt]) => {
          const dir = damaged(d);
          try {
            let opened: ReturnType<typeof openDurability>;
            try {
              opened = openDurability(dir, { ...OPTIONS, truncateCorrupt, onWarning: () => {} });
            } catch (e) {
              if (!isDurabilityError(e)) throw e;
              return;
            }
            const at = opened.recovered.offset;
            expect(at).toBeLessThanOrEqual(LAST);
            expect(at).toBeGreaterThanOrEqual(-1n);
            // What it recovered is exactly the history up to there: damage is never read as data.
            if (printable(opened.recovered) !== expected.get(at))
              expect(comparable(opened.recovered)).toEqual(comparable(new SetModel().advanceTo(at).image()));
            opened.append(workloadTx(at + 1n));
            await opened.close();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
        { ciRuns: 80, caseTimeoutMs: 30_000 },
      );
    },
    fuzzTimeout(120_000),
  );
});
