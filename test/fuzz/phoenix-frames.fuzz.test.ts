/**
 * Fuzz: the legacy lane's Phoenix V2 frames (`legacy/protocol/frames.ts`) and the channel state
 * machine they drive (`legacy/server/channel-state.ts`), over a real journal. Arbitrary text, frames
 * built from the protocol's events and payload shapes (join, subscribe with topics / resume_after /
 * replay_batch_size, unsubscribe, heartbeat, leave) with arbitrary values, and those frames mutated
 * byte by byte, fed as a session mixed with ticks, drains and journal notifications. Each text is a
 * frame or the documented refusal (`{ ok: false, reason }`, which closes the socket with 1007); each
 * frame is a transition with Phoenix replies or pushes out — never an exception.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { LegacyJournal } from '../../legacy/journal/journal.js';
import { decodeFrame, encodeFrame } from '../../legacy/protocol/frames.js';
import { GEN1_TOPICS } from '../../legacy/protocol/topic-policy.js';
import { type ChannelDeps, type ChannelEvent, IDLE, transition } from '../../legacy/server/channel-state.js';
import { fuzz, fuzzTimeout } from './fuzz.js';
import { RUNS, texts } from './phoenix-inputs.js';

let journal: LegacyJournal;

beforeAll(async () => {
  journal = await LegacyJournal.open(await mkdtemp(join(tmpdir(), 'legacy-fuzz-')));
  await journal.append(
    Array.from({ length: 300 }, (_, i) => ({
      topic: RUNS,
      docKey: `runtime/run_summary:run_${i + 1}`,
      docVersion: i + 1,
      payload: { n: i + 1 },
      streamId: 'runs',
      idempotencyKey: `r${i + 1}`,
    })),
  );
});

const deps = (nowMs: number): ChannelDeps => ({
  journal,
  principal: { sub: 'user:1', sessionId: 's', deviceId: 'd', orgId: 'o', scopes: [RUNS, 'not.served'] },
  servedTopics: new Set(GEN1_TOPICS),
  policy: {},
  batchSize: 200,
  heartbeatTimeoutMs: 60_000,
  drainTopicsPerTick: 2,
  queueLimit: 64,
  maxStrikes: 3,
  reconnectAfterMs: 2_000,
  nowMs,
});

const steps: fc.Arbitrary<({ kind: 'text'; text: string } | ChannelEvent)[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: texts.map((text) => ({ kind: 'text' as const, text })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<ChannelEvent>(
        { type: 'tick' },
        { type: 'drain' },
        { type: 'notify', topic: RUNS },
      ),
    },
  ),
  { minLength: 1, maxLength: 8 },
);

describe('fuzz: legacy Phoenix frames', () => {
  it(
    'each text is a frame or a refusal with a reason; each frame a transition with frames out',
    async () => {
      const seen = new Map<string, number>();
      await fuzz(
        'phoenix/session',
        // Most sessions start joined, so subscribe and the rest reach past the join check.
        fc.tuple(fc.boolean(), steps),
        ([join, session]) => {
          let state = IDLE;
          let now = 1_000;
          const all = join
            ? [{ kind: 'text' as const, text: '[null,"1","sync:v1","phx_join",{}]' }, ...session]
            : session;
          for (const step of all) {
            now += 500;
            let event: ChannelEvent;
            if ('kind' in step) {
              const decoded = decodeFrame(step.text);
              if (!decoded.ok) {
                expect(decoded.reason.length).toBeGreaterThan(0);
                continue;
              }
              // What the server echoes back must encode again.
              expect(decodeFrame(encodeFrame(decoded.frame)).ok).toBe(true);
              event = { type: 'client', frame: decoded.frame };
            } else event = step;
            const t = transition(state, event, deps(now));
            for (const f of t.out) {
              expect(typeof encodeFrame(f)).toBe('string');
              seen.set(f.event, (seen.get(f.event) ?? 0) + 1);
            }
            state = t.state;
          }
        },
        { ciRuns: 1000 },
      );
      // The inputs reach past decoding: replies, replayed batches and frames all came out.
      for (const event of ['phx_reply', 'sync:update_batch', 'sync:frame'])
        expect(seen.get(event) ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );
});
