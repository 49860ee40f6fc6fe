import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuthorityId,
  authorityKey,
  type CandidateCoordinates,
  type DocKeyRule,
  GEN1_RULES,
  LaneMapping,
  MAX_LEGACY_VERSION,
  MappingError,
  parseAuthorityKey,
} from './mapping.js';

// Names with the characters that broke OpenAgents' own topic→stream mapping (':' '.' '/'), and more.
const name = fc.string({
  unit: fc.constantFrom('a', 'b', ':', '.', '/', '_', '1', 'é', '😀', '"'),
  minLength: 1,
});
const topic = fc.constantFrom('runtime.run_summaries', 'runtime.codex_worker_events', 'orders', 'a:b.c');
const version = fc.bigInt({ min: 1n, max: MAX_LEGACY_VERSION });
const rules: fc.Arbitrary<DocKeyRule[]> = fc
  .uniqueArray(
    fc.record({
      topic,
      docKeyPrefix: fc.oneof(fc.constant(''), name),
      streamPrefix: fc.oneof(fc.constant(''), name),
      perVersion: fc.boolean(),
    }),
    { selector: (r) => r.topic, maxLength: 3 },
  )
  .map((rs) => rs);

/** A candidate event that is nameable under the rules: its stream carries the rule's prefix. */
const candidateUnder = (rs: DocKeyRule[]): fc.Arbitrary<CandidateCoordinates> =>
  fc.record({ t: topic, entity: name, v: version }).map(({ t, entity, v }) => {
    const rule = rs.find((r) => r.topic === t);
    return { streamId: `${rule?.streamPrefix ?? ''}${entity}`, sourceTopic: t, sourceSeq: v };
  });

describe('LaneMapping', () => {
  it('candidate → authority id → candidate is the identity, for any rules and names', () => {
    fc.assert(
      fc.property(
        rules.chain((rs) => fc.tuple(fc.constant(rs), candidateUnder(rs))),
        ([rs, c]) => {
          const m = new LaneMapping(rs);
          const id = m.fromCandidate(c);
          expect(id.topic).toBe(c.sourceTopic);
          expect(id.version).toBe(c.sourceSeq);
          expect(m.toCandidate(id)).toEqual(c);
        },
      ),
    );
  });

  it('legacy → candidate → legacy is the identity for every doc_key our streams produce', () => {
    fc.assert(
      fc.property(
        rules.chain((rs) => fc.tuple(fc.constant(rs), candidateUnder(rs))),
        ([rs, c]) => {
          const m = new LaneMapping(rs);
          const legacy = m.toLegacy(m.fromCandidate(c));
          const back = m.fromLegacy(legacy);
          expect(m.toLegacy(m.fromCandidate(m.toCandidate(back)))).toEqual(legacy);
        },
      ),
    );
  });

  it('distinct events get distinct authority keys (no folding), and keys parse back', () => {
    fc.assert(
      fc.property(
        rules.chain((rs) => fc.tuple(fc.constant(rs), candidateUnder(rs), candidateUnder(rs))),
        ([rs, a, b]) => {
          const m = new LaneMapping(rs);
          const ka = authorityKey(m.fromCandidate(a));
          const kb = authorityKey(m.fromCandidate(b));
          const same =
            a.streamId === b.streamId && a.sourceTopic === b.sourceTopic && a.sourceSeq === b.sourceSeq;
          expect(ka === kb).toBe(same);
          expect(parseAuthorityKey(ka)).toEqual(m.fromCandidate(a));
        },
      ),
    );
  });

  it('without rules a topic fans out by doc_key = stream id, verbatim', () => {
    const m = new LaneMapping();
    const id = m.fromCandidate({ streamId: 'run:42', sourceTopic: 'runtime.run_summaries', sourceSeq: 7n });
    expect(m.toLegacy(id)).toEqual({ topic: 'runtime.run_summaries', docKey: 'run:42', docVersion: 7n });
  });

  it("names gen-1 worker events the way the real lane did, each its own document, grouped into the worker's stream", () => {
    const m = new LaneMapping(GEN1_RULES);
    const id = m.fromLegacy({
      topic: 'runtime.codex_worker_events',
      docKey: 'runtime/codex_worker_event:desktop:worker:12',
      docVersion: 12n,
    });
    expect(m.toCandidate(id)).toEqual({
      streamId: 'runtime/codex_worker_event:desktop:worker',
      sourceTopic: 'runtime.codex_worker_events',
      sourceSeq: 12n,
    });
  });

  it('refuses names outside a rule and versions a legacy JSON number cannot hold, with a reason', () => {
    const m = new LaneMapping(GEN1_RULES);
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof MappingError ? e.reason : String(e);
      }
      return 'no error';
    };
    const bad: AuthorityId = { topic: 'runtime.codex_worker_events', docKey: 'worker:1:3', version: 3n };
    expect(reason(() => m.toCandidate(bad))).toBe('doc_key_outside_rule');
    expect(reason(() => m.toCandidate({ ...bad, docKey: 'runtime/codex_worker_event:w:4' }))).toBe(
      'doc_key_outside_rule',
    );
    expect(
      reason(() =>
        m.fromCandidate({ streamId: 'w', sourceTopic: 'runtime.codex_worker_events', sourceSeq: 1n }),
      ),
    ).toBe('stream_outside_rule');
    expect(
      reason(() => m.fromCandidate({ streamId: 's', sourceTopic: 't', sourceSeq: MAX_LEGACY_VERSION + 1n })),
    ).toBe('version_out_of_range');
    expect(reason(() => m.fromCandidate({ streamId: 's', sourceTopic: '', sourceSeq: 1n }))).toBe(
      'empty_topic',
    );
    expect(reason(() => new LaneMapping([...GEN1_RULES, ...GEN1_RULES]))).toBe('duplicate_rule');
  });
});
