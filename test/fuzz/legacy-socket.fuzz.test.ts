/**
 * Fuzz: the running reference legacy lane (`legacy/`, a real websocket server over a real journal)
 * fed Phoenix frames over live sockets — built, mutated and arbitrary text frames, binary frames,
 * after a join or without one, and sometimes a damaged token. Each socket must end in the lane's own
 * answers: every message it sends is a Phoenix frame, and it either still answers the socket-level
 * heartbeat sent last or closes with a code and reason (1007 for a malformed frame, …) — never a
 * dropped connection (1006) or a hang. Afterwards a good client still replays the topic in full.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LegacyLaneClient, type LegacyUpdate } from '../../legacy/client/index.js';
import { type LegacyLane, mintToken, parseKeyring, startLegacyLane } from '../../legacy/index.js';
import { anyBytes, fuzz, fuzzTimeout } from './fuzz.js';
import { goodSubscribe, RUNS, texts } from './phoenix-inputs.js';

const keyring = parseKeyring('fuzz-lane=0123456789abcdef0123456789abcdef', 'fuzz');
const ROWS = 120;
let lane: LegacyLane;
let token: string;

beforeAll(async () => {
  lane = await startLegacyLane({
    dataDir: await mkdtemp(join(tmpdir(), 'legacy-socket-fuzz-')),
    keyring,
    logger: pino({ level: 'silent' }),
  });
  await lane.journal.append(
    Array.from({ length: ROWS }, (_, i) => ({
      topic: RUNS,
      docKey: `runtime/run_summary:run_${i + 1}`,
      docVersion: i + 1,
      payload: { n: i + 1 },
      streamId: 'runs',
      idempotencyKey: `r${i + 1}`,
    })),
  );
  // Valid for the whole run: the default 5 minutes expired mid-run in the first long run, and every
  // good-token socket after that was (rightly) refused with 403.
  token = await mintToken(keyring, { topics: [RUNS], ttlSeconds: 2 * 24 * 3600 });
}, 60_000);

afterAll(async () => {
  await lane?.stop();
});

const JOIN = '[null,"1","sync:v1","phx_join",{}]';
const PROBE = '[null,"probe","phoenix","heartbeat",{}]';

type Message = { readonly text: string } | { readonly binary: Uint8Array };
interface Case {
  readonly token: 'good' | 'damaged' | 'none';
  readonly join: boolean;
  readonly messages: readonly Message[];
}

const cases: fc.Arbitrary<Case> = fc.record({
  token: fc.constantFrom<Case['token']>('good', 'good', 'good', 'good', 'good', 'good', 'damaged', 'none'),
  join: fc.boolean(),
  messages: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: texts.map((text) => ({ text })) },
      // Frames the lane accepts, so sessions also reach replay and live reads before anything breaks.
      { weight: 3, arbitrary: goodSubscribe.map((text) => ({ text })) },
      { weight: 1, arbitrary: anyBytes(512).map((binary) => ({ binary })) },
    ),
    { minLength: 1, maxLength: 6 },
  ),
});

/** What one socket saw: its messages, and how it ended (still answering the probe, or closed). */
async function session(
  c: Case,
): Promise<{ frames: string[]; end: 'probe' | { code: number; reason: string } }> {
  const t =
    c.token === 'good' ? token : c.token === 'damaged' ? `${token.slice(0, -3)}x${token.slice(-2)}` : '';
  const ws = new WebSocket(`${lane.url}?vsn=2.0.0${t ? `&token=${encodeURIComponent(t)}` : ''}`);
  const frames: string[] = [];
  try {
    return await new Promise((resolve, reject) => {
      ws.on('message', (d, isBinary) => {
        const text = d.toString();
        frames.push(isBinary ? `binary:${text}` : text);
        try {
          const f = JSON.parse(text) as unknown[];
          if (Array.isArray(f) && f[1] === 'probe' && f[3] === 'phx_reply') resolve({ frames, end: 'probe' });
        } catch {
          // judged below: every message must be a Phoenix frame
        }
      });
      ws.on('close', (code, reason) => resolve({ frames, end: { code, reason: reason.toString() } }));
      // A refused upgrade (bad token) is an HTTP answer, not a socket: the lane's error for it.
      ws.on('unexpected-response', (_req, res) =>
        resolve({ frames, end: { code: res.statusCode ?? 0, reason: `http ${res.statusCode}` } }),
      );
      ws.on('error', (e) => reject(e));
      ws.on('open', () => {
        if (c.join) ws.send(JOIN);
        for (const m of c.messages) 'text' in m ? ws.send(m.text) : ws.send(m.binary);
        ws.send(PROBE);
      });
    });
  } finally {
    ws.terminate();
  }
}

async function check(c: Case): Promise<void> {
  const { frames, end } = await session(c);
  for (const f of frames) {
    expect(f.startsWith('binary:'), f).toBe(false);
    const parsed = JSON.parse(f) as unknown;
    expect(Array.isArray(parsed) && parsed.length === 5, f).toBe(true);
  }
  if (end === 'probe') return;
  if (end.reason.startsWith('http ')) {
    // Only a missing or damaged token is refused at the upgrade, with 401/403.
    expect(c.token, end.reason).not.toBe('good');
    expect([401, 403]).toContain(end.code);
    return;
  }
  // Closed by the lane on purpose: a code of the protocol and a reason, never an abnormal drop.
  expect(end.code, end.reason).not.toBe(1006);
  expect(end.code).toBeGreaterThanOrEqual(1000);
  expect(end.code).toBeLessThan(5000);
  expect(end.reason.length).toBeGreaterThan(0);
}

describe('fuzz: Phoenix frames to a running legacy lane', () => {
  it(
    'each socket gets Phoenix frames and a heartbeat answer or a close with a reason; the lane still serves',
    async () => {
      await fuzz('legacy/socket', cases, check, { ciRuns: 200, caseTimeoutMs: 30_000, parallel: 4 });
      const seen: LegacyUpdate[] = [];
      const client = await LegacyLaneClient.connect({
        url: lane.url,
        token,
        heartbeatMs: 0,
        onUpdate: (u) => seen.push(u),
      });
      try {
        await client.subscribe([RUNS], { resumeAfter: { [RUNS]: 0 } });
        await expect.poll(() => seen.length).toBe(ROWS);
        expect(seen.map((u) => u.watermark)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
      } finally {
        await client.close();
      }
    },
    fuzzTimeout(180_000),
  );
});
