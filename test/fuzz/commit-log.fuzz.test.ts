/**
 * Fuzz: the commit-log reader on corrupted segments (`devhost/durability/`). A data directory with 40
 * committed transactions over several small segments is copied per case, then damaged: byte edits
 * (flips, overwrites, inserted and deleted bytes, truncation, repeated spans) in one or more
 * segments, a segment removed, or a stray file of arbitrary bytes added. Opening it recovers exactly a prefix
 * of the history (and appends continue after it), or refuses with the documented `DurabilityError`
 * (closed set of codes) — with and without `truncateCorrupt`; never another exception.
 */
import { cpSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DurabilityOptions, isDurabilityError, openDurability } from '../../devhost/durability/index.js';
import { comparable, SetModel, workloadTx } from '../../devhost/durability/testing/crash-model.js';
import {
  appendWorkload,
  removeTempDataDirs,
  tempDataDir,
} from '../../devhost/durability/testing/fixtures.js';
import { apply, edit, fuzz, fuzzTimeout } from './fuzz.js';

const LAST = 39n;
const OPTIONS: DurabilityOptions = { fsync: 'never', segmentBytes: 2048 };
let template: string;
let segmentNames: string[];

beforeAll(async () => {
  template = tempDataDir();
  const d = openDurability(template, OPTIONS);
  appendWorkload(d, 0n, LAST);
  await d.close();
  segmentNames = readdirSync(join(template, 'clog')).sort();
  expect(segmentNames.length).toBeGreaterThan(2);
});

afterAll(removeTempDataDirs);

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

function damaged(d: Damage): string {
  const dir = tempDataDir();
  cpSync(template, dir, { recursive: true });
  const clog = join(dir, 'clog');
  const pick = (at: number) => join(clog, segmentNames[Math.floor(at * segmentNames.length)] as string);
  if (d.kind === 'edit') {
    for (const at of d.segments) {
      const path = pick(at);
      writeFileSync(path, d.edits.reduce(apply, new Uint8Array(readFileSync(path))));
    }
  } else if (d.kind === 'remove') unlinkSync(pick(d.segment));
  else writeFileSync(join(clog, d.name), d.bytes);
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
