import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalDigest, type JsonValue } from './canonical-json.js';
import { classify, type DivergenceClass } from './classify.js';
import { longestIncreasing } from './longest-increasing.js';
import { GEN1_RULES, LaneMapping } from './mapping.js';
import type { CandidateEntry, LegacyEntry, Scope } from './observation.js';

const T = 'runtime.run_summaries';
const U = 'runtime.codex_worker_summaries';

/** A legacy update as the lane sends it (hash = base64 canonical digest of the payload). */
function L(
  topic: string,
  watermark: number,
  docKey: string,
  version: number,
  payload: JsonValue,
  atMs = 0,
): LegacyEntry {
  return {
    kind: 'update',
    update: {
      topic,
      watermark: BigInt(watermark),
      docKey,
      docVersion: BigInt(version),
      payload,
      payloadHash: canonicalDigest(payload).toString('base64'),
      atMs,
    },
  };
}

/** Our event (hash = SHA-256 of the exact bytes); the payload is given as JSON text. */
function C(
  stream: string,
  seq: number,
  topic: string,
  sourceSeq: number,
  text: string,
  atMs = 0,
): CandidateEntry {
  const payload = new TextEncoder().encode(text);
  return {
    kind: 'event',
    event: {
      streamId: stream,
      seq: BigInt(seq),
      sourceTopic: topic,
      sourceSeq: BigInt(sourceSeq),
      idempotencyKey: `k-${sourceSeq}`,
      payload,
      payloadHash: new Uint8Array(createHash('sha256').update(payload).digest()),
      atMs,
    },
  };
}

function withHash(e: LegacyEntry, payloadHash: string): LegacyEntry {
  if (e.kind !== 'update') throw new Error('not an update');
  return { kind: 'update', update: { ...e.update, payloadHash } };
}

const staleL = (topic: string, atMs = 0): LegacyEntry => ({
  kind: 'stale',
  topic,
  reason: 'retention_floor_breach',
  atMs,
});
const rebootC = (streamId: string, atMs = 0, reason = 'below_low_watermark'): CandidateEntry => ({
  kind: 'rebootstrap',
  streamId,
  reason,
  atMs,
});

// Two streams of one topic, interleaved in the legacy topic log (a global log), separate in ours.
const legacyBase = [
  L(T, 1, 'run:1', 1, { status: 'queued' }),
  L(T, 2, 'run:2', 2, { status: 'queued' }),
  L(T, 3, 'run:1', 3, { status: 'running' }),
  L(T, 4, 'run:1', 4, { status: 'done' }),
];
const candidateBase = [
  C('run:1', 1, T, 1, '{"status":"queued"}'),
  C('run:1', 2, T, 3, '{"status": "running"}'), // different bytes, same canonical document
  C('run:1', 3, T, 4, '{"status":"done"}'),
  C('run:2', 1, T, 2, '{"status":"queued"}'),
];
const scope: Scope = { topics: new Set([T]), streams: new Set(['run:1', 'run:2']), horizon: false };

interface Case {
  readonly name: string;
  readonly legacy: LegacyEntry[];
  readonly candidate: CandidateEntry[];
  readonly scope?: Scope;
  readonly mapping?: LaneMapping;
  readonly expect: Partial<Record<DivergenceClass, number>>;
  readonly compared?: number;
  readonly detail?: RegExp;
}

const cases: Case[] = [
  { name: 'identical deliveries', legacy: legacyBase, candidate: candidateBase, expect: {}, compared: 4 },
  {
    name: 'a dropped event is missing',
    legacy: legacyBase,
    candidate: candidateBase.filter((_, i) => i !== 1),
    expect: { missing: 1 },
    compared: 3,
    detail: /run:1@3/,
  },
  {
    name: 'an event only the candidate has is extra',
    legacy: legacyBase,
    candidate: [...candidateBase, C('run:2', 2, T, 5, '{"status":"running"}')],
    expect: { extra: 1 },
  },
  {
    name: 'a reordered pair in one stream is one order divergence',
    legacy: legacyBase,
    candidate: [candidateBase[0]!, candidateBase[2]!, candidateBase[1]!, candidateBase[3]!],
    expect: { order_differs: 1 },
  },
  {
    name: 'interleaving across streams is not an order difference (streams are independent)',
    legacy: legacyBase,
    candidate: [candidateBase[3]!, candidateBase[0]!, candidateBase[1]!, candidateBase[2]!],
    expect: {},
  },
  {
    name: 'a corrupted payload differs',
    legacy: legacyBase,
    candidate: [
      candidateBase[0]!,
      C('run:1', 2, T, 3, '{"status":"runnin"}'),
      candidateBase[2]!,
      candidateBase[3]!,
    ],
    expect: { payload_differs: 1 },
    detail: /canonical hashes differ/,
  },
  {
    name: 'projected_at (volatile, top level) is ignored; any other field is not',
    legacy: [
      L(T, 1, 'run:1', 1, { a: 1, projected_at: '2026-02-20T10:00:00Z' }),
      L(T, 2, 'run:1', 2, { a: 2, updated: 1 }),
    ],
    candidate: [
      C('run:1', 1, T, 1, '{"projected_at":"2026-02-20T10:00:07Z","a":1}'),
      C('run:1', 2, T, 2, '{"a":2,"updated":2}'),
    ],
    expect: { payload_differs: 1 },
  },
  {
    name: 'a legacy duplicate under a second watermark, same payload',
    legacy: [...legacyBase, L(T, 5, 'run:1', 3, { status: 'running' })],
    candidate: candidateBase,
    expect: { duplicate: 1 },
    detail: /same payload/,
  },
  {
    name: 'a candidate duplicate with a new hash',
    legacy: legacyBase,
    candidate: [...candidateBase, C('run:1', 4, T, 4, '{"status":"failed"}')],
    expect: { duplicate: 1 },
    detail: /new payload hash/,
  },
  {
    name: 'stale on both sides agrees, and the resync replay is not a duplicate',
    legacy: [...legacyBase, staleL(T), ...legacyBase],
    candidate: [...candidateBase.slice(0, 3), rebootC('run:1'), ...candidateBase],
    expect: {},
  },
  {
    name: 'stale only in legacy (the detail names the legacy reason)',
    legacy: [staleL(T), ...legacyBase],
    candidate: candidateBase,
    expect: { stale_cursor_disagreement: 1 },
    detail: /legacy answered stale_cursor \(retention_floor_breach\) for /,
  },
  {
    name: 'rebootstrap only in the candidate (the detail names why it rebootstrapped)',
    legacy: legacyBase,
    candidate: [rebootC('run:2', 0, 'server_behind'), ...candidateBase],
    expect: { stale_cursor_disagreement: 1 },
    detail: /the candidate rebootstrapped run:2 \(server_behind\); legacy reported no stale cursor/,
  },
  {
    name: "other principals' documents on a shared topic are out of scope, not extra or missing",
    legacy: [...legacyBase, L(T, 5, 'run:99', 5, { status: 'x' }), L(U, 1, 'w:1', 1, {})],
    candidate: [...candidateBase, C('run:3', 1, T, 6, '{}')],
    expect: {},
  },
  {
    name: 'resumed from different positions: the horizon skips the prefix only one lane replayed',
    legacy: legacyBase.slice(2),
    candidate: candidateBase.slice(1),
    scope: { ...scope, streams: new Set(['run:1']), horizon: true },
    expect: {},
    compared: 2,
  },
  {
    name: 'without a horizon the same prefix is missing',
    legacy: legacyBase,
    candidate: candidateBase.slice(1),
    expect: { missing: 1 },
  },
  {
    name: 'a legacy hash that does not match its payload is a payload difference',
    legacy: [withHash(L(T, 1, 'run:1', 1, { status: 'queued' }), 'AAAA'), ...legacyBase.slice(1)],
    candidate: candidateBase,
    expect: { payload_differs: 1 },
    detail: /legacy payload_hash/,
  },
  {
    name: 'a candidate payload that is not JSON cannot match',
    legacy: legacyBase,
    candidate: [C('run:1', 1, T, 1, '{"status":'), ...candidateBase.slice(1)],
    expect: { payload_differs: 1 },
    detail: /not_json/,
  },
  {
    name: 'a name outside the mapping rule is unmappable',
    legacy: [L('runtime.codex_worker_events', 1, 'worker:1', 1, {})],
    candidate: [],
    scope: { ...scope, topics: new Set(['runtime.codex_worker_events']) },
    mapping: new LaneMapping(GEN1_RULES),
    expect: { unmappable: 1 },
  },
];

describe('classify', () => {
  it.each(cases)('$name', (c) => {
    const r = classify(
      { legacy: c.legacy, candidate: c.candidate },
      c.scope ?? scope,
      c.mapping ?? new LaneMapping(),
    );
    const nonZero = Object.fromEntries(Object.entries(r.counts).filter(([, n]) => n > 0));
    expect(nonZero).toEqual(c.expect);
    expect(r.divergences).toHaveLength(Object.values(c.expect).reduce((a, b) => a + b, 0));
    if (c.compared !== undefined) expect(r.compared).toBe(c.compared);
    if (c.detail) expect(r.divergences.map((d) => d.detail).join('\n')).toMatch(c.detail);
  });

  it('shows the first divergence with both sides bytes, earliest first', () => {
    const r = classify(
      {
        legacy: [L(T, 1, 'run:1', 1, { a: 1 }, 100), L(T, 2, 'run:1', 2, { a: 2 }, 200)],
        candidate: [C('run:1', 1, T, 1, '{"a":1}', 110), C('run:1', 2, T, 2, '{"a":3}', 150)],
      },
      scope,
      new LaneMapping(),
    );
    expect(r.divergences[0]).toMatchObject({
      class: 'payload_differs',
      legacy: { watermark: '2', payload: '{"a":2}' },
      candidate: { seq: '2', payload: '{"a":3}' },
    });
  });

  it('measures time to parity as candidate delivery minus legacy delivery', () => {
    const r = classify(
      {
        legacy: [L(T, 1, 'run:1', 1, {}, 1000), L(T, 2, 'run:1', 2, {}, 1000), L(T, 3, 'run:1', 3, {}, 1000)],
        candidate: [
          C('run:1', 1, T, 1, '{}', 1005),
          C('run:1', 2, T, 2, '{}', 990),
          C('run:1', 3, T, 3, '{}', 1040),
        ],
      },
      scope,
      new LaneMapping(),
    );
    expect(r.timeToParityMs).toMatchObject({ count: 3, minMs: -10, p50Ms: 5, maxMs: 40 });
  });

  it('longestIncreasing keeps a longest increasing run', () => {
    expect([...longestIncreasing([0, 2, 1, 3])].length).toBe(3);
    expect(longestIncreasing([3, 2, 1]).size).toBe(1);
    expect(longestIncreasing([]).size).toBe(0);
  });
});
