/**
 * The reference legacy lane over real sockets: the project's legacy client against the server, with
 * the fact sheet's refusals (tokens, topics, malformed frames, unknown events) — each gets the lane's
 * error and the server keeps serving others.
 */
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { LegacyLaneClient, type LegacyLaneError, type LegacyUpdate } from '../../legacy/client/index.js';
import { type LegacyLane, mintToken, parseKeyring, startLegacyLane } from '../../legacy/index.js';
import { encodeRecord } from '../../legacy/journal/record-codec.js';

const RUNS = 'runtime.run_summaries';
const WORKERS = 'runtime.codex_worker_summaries';
const keyring = parseKeyring('lane-test=0123456789abcdef0123456789abcdef', 'test');
const lanes: LegacyLane[] = [];
const clients: LegacyLaneClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const l of lanes.splice(0)) await l.stop();
});

async function lane(
  dataDir?: string,
  extra: Partial<Parameters<typeof startLegacyLane>[0]> = {},
): Promise<LegacyLane> {
  const l = await startLegacyLane({
    dataDir: dataDir ?? (await mkdtemp(join(tmpdir(), 'legacy-lane-'))),
    keyring,
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  lanes.push(l);
  return l;
}

async function rows(l: LegacyLane, topic: string, from: number, to: number): Promise<void> {
  const entries = [];
  for (let n = from; n <= to; n++) {
    entries.push({
      topic,
      docKey: `runtime/run_summary:run_${n}`,
      docVersion: n,
      payload: { status: 'running', n },
      streamId: `stream:${topic}`,
      idempotencyKey: `k${n}`,
    });
  }
  await l.journal.append(entries);
}

async function connect(
  l: LegacyLane,
  topics = [RUNS, WORKERS],
  onUpdate?: (u: LegacyUpdate) => void,
  onError?: (e: LegacyLaneError) => void,
) {
  const c = await LegacyLaneClient.connect({
    url: l.url,
    token: await mintToken(keyring, { topics }),
    heartbeatMs: 0,
    ...(onUpdate ? { onUpdate } : {}),
    ...(onError ? { onError } : {}),
  });
  clients.push(c);
  return c;
}

/** A raw socket speaking frames by hand, for input the client would never send. */
async function rawSocket(
  l: LegacyLane,
  topics = [RUNS],
): Promise<{ ws: WebSocket; frames: unknown[][]; closed: Promise<number> }> {
  const ws = new WebSocket(`${l.url}?vsn=2.0.0&token=${await mintToken(keyring, { topics })}`);
  const frames: unknown[][] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  return { ws, frames, closed };
}

describe('legacy lane reference server', () => {
  it('replays from resume_after, then tails live; each row reaches the application once despite the doubled batches', async () => {
    const l = await lane();
    await rows(l, RUNS, 1, 450);
    const seen: LegacyUpdate[] = [];
    const c = await connect(l, [RUNS], (u) => seen.push(u));
    const sub = await c.subscribe([RUNS], { resumeAfter: { [RUNS]: 10 } });
    expect(sub.currentWatermarks).toEqual({ [RUNS]: 450 });
    expect(seen.map((u) => u.watermark)).toEqual(Array.from({ length: 440 }, (_, i) => i + 11));
    expect(seen.every((u) => u.phase === 'replay')).toBe(true);
    expect(c.stats()).toMatchObject({ delivered: 440, duplicates: 440, batches: 6 });
    await rows(l, RUNS, 451, 455);
    await expect.poll(() => seen.length).toBe(445);
    expect(seen.slice(440).map((u) => [u.watermark, u.phase, u.docVersion])).toEqual(
      [451, 452, 453, 454, 455].map((n) => [n, 'live', n]),
    );
    expect(seen[0]).toMatchObject({
      topic: RUNS,
      docKey: 'runtime/run_summary:run_11',
      payload: { status: 'running', n: 11 },
      hydrationRequired: false,
    });
  });

  it('live tail: more than a batch on two topics arrives complete and in order per topic', async () => {
    const l = await lane();
    const seen: LegacyUpdate[] = [];
    const c = await connect(l, [RUNS, WORKERS], (u) => seen.push(u));
    await c.subscribe([RUNS, WORKERS]);
    await Promise.all([rows(l, RUNS, 1, 450), rows(l, WORKERS, 1, 250)]);
    await expect.poll(() => seen.length).toBe(700);
    for (const [topic, n] of [
      [RUNS, 450],
      [WORKERS, 250],
    ] as const) {
      expect(seen.filter((u) => u.topic === topic).map((u) => u.watermark)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
    }
    expect(seen.every((u) => u.phase === 'live')).toBe(true);
  });

  it('a lane restarted from an old copy of its journal reuses watermarks: a reconnected client reports watermark_reused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legacy-lane-'));
    const snapshot = await mkdtemp(join(tmpdir(), 'legacy-snapshot-'));
    const first = await lane(dir);
    await rows(first, RUNS, 1, 3);
    await first.stop();
    await cp(dir, snapshot, { recursive: true });
    const current = await lane(dir);
    await rows(current, RUNS, 4, 5);
    const seen: number[] = [];
    const c1 = await connect(current, [RUNS], (u) => seen.push(u.watermark));
    await c1.subscribe([RUNS]);
    await current.stop();
    await c1.done;
    // The old copy knows rows 1–3 only; other events then take watermarks 4 and 5.
    const old = await lane(snapshot);
    await old.journal.append(
      [4, 5].map((n) => ({
        topic: RUNS,
        docKey: `other:${n}`,
        docVersion: n,
        payload: { other: n },
        streamId: 'other',
        idempotencyKey: `o${n}`,
      })),
    );
    const errors: LegacyLaneError[] = [];
    const c2 = await LegacyLaneClient.connect({
      url: old.url,
      token: await mintToken(keyring, { topics: [RUNS] }),
      heartbeatMs: 0,
      dedupe: c1.dedupe,
      onUpdate: (u) => seen.push(u.watermark),
      onError: (e) => errors.push(e),
    });
    clients.push(c2);
    await c2.subscribe([RUNS], { resumeAfter: { [RUNS]: 0 } });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(c2.stats().duplicates).toBe(6 + 2); // 1–3 twice each, and the twins of the reused 4 and 5
    expect(errors.map((e) => e.code)).toEqual(['watermark_reused', 'watermark_reused']);
  });

  it('a row whose stored payload_hash does not match its payload is delivered and reported as bad_frame_payload', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legacy-lane-'));
    const row = {
      r: 'row',
      topic: RUNS,
      watermark: 1,
      doc_key: 'run:1',
      doc_version: 1,
      payload: { status: 'running' },
      inserted_at_ms: Date.now(),
      stream_id: 's',
      idempotency_key: 'k1',
    } as const;
    await writeFile(
      join(dir, 'journal.log'),
      encodeRecord({ ...row, payload_hash: Buffer.alloc(32).toString('base64') }),
    );
    const l = await lane(dir);
    const errors: LegacyLaneError[] = [];
    const seen: LegacyUpdate[] = [];
    const c = await connect(
      l,
      [RUNS],
      (u) => seen.push(u),
      (e) => errors.push(e),
    );
    await c.subscribe([RUNS]);
    expect(seen.map((u) => u.watermark)).toEqual([1]);
    expect(errors.map((e) => e.code)).toEqual(['bad_frame_payload']);
  });

  it('a client resumes after a lane restart from the same journal, with the same watermarks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'legacy-lane-'));
    const first = await lane(dir);
    await rows(first, RUNS, 1, 3);
    const seen: number[] = [];
    const c1 = await connect(first, [RUNS], (u) => seen.push(u.watermark));
    await c1.subscribe([RUNS]);
    const resume = c1.watermarks();
    await first.stop();
    await expect(c1.done).resolves.toMatchObject({ code: 'closed' });
    const second = await lane(dir);
    await rows(second, RUNS, 4, 5);
    expect(second.journal.head(RUNS)).toBe(5);
    const c2 = await connect(second, [RUNS], (u) => seen.push(u.watermark));
    await c2.subscribe([RUNS], { resumeAfter: resume });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('stale cursor below the retention floor: a typed error with the fact sheet fields, nothing replayed', async () => {
    const l = await lane();
    await rows(l, RUNS, 1, 50);
    await l.journal.prune(RUNS, 42);
    const seen: LegacyUpdate[] = [];
    const errors: LegacyLaneError[] = [];
    const c = await connect(
      l,
      [RUNS, WORKERS],
      (u) => seen.push(u),
      (e) => errors.push(e),
    );
    const err = (await c
      .subscribe([WORKERS, RUNS], { resumeAfter: { [RUNS]: 10, [WORKERS]: 0 } })
      .catch((e: unknown) => e)) as LegacyLaneError;
    expect(err.code).toBe('stale_cursor');
    expect(err.staleTopics).toEqual([
      {
        topic: RUNS,
        reason: 'retention_floor_breach',
        qos_tier: 'warm',
        resume_after: 10,
        retention_floor: 42,
        head_watermark: 50,
        replay_lag: 40,
        replay_budget_events: 20000,
      },
    ]);
    expect(seen).toEqual([]);
    expect(errors).toEqual([]); // the pushed copies of the error are the reply's, not reported twice
    const ok = await c.subscribe([RUNS], { resumeAfter: { [RUNS]: 42 } });
    expect(ok.currentWatermarks[RUNS]).toBe(50);
  });

  it('stale cursor over the replay budget', async () => {
    const l = await lane(undefined, { policy: { [RUNS]: { replayBudgetEvents: 5 } } });
    await rows(l, RUNS, 1, 10);
    const c = await connect(l);
    const err = (await c
      .subscribe([RUNS], { resumeAfter: { [RUNS]: 4 } })
      .catch((e: unknown) => e)) as LegacyLaneError;
    expect(err.code).toBe('stale_cursor');
    expect(err.payload).toMatchObject({
      message: 'replay budget exceeded for topic qos tier; full resync required',
      reason_codes: ['replay_budget_exceeded'],
    });
  });

  it('a topic outside the token scopes or unknown to the lane is forbidden_topic; the channel stays usable', async () => {
    const l = await lane(undefined, { servedTopics: [RUNS, WORKERS] });
    const c = await connect(l, [RUNS, 'runtime.notifications']);
    expect(c.allowedTopics).toEqual([RUNS]);
    const outside = (await c.subscribe([WORKERS]).catch((e: unknown) => e)) as LegacyLaneError;
    expect([outside.code, outside.forbiddenTopics]).toEqual(['forbidden_topic', [WORKERS]]);
    const unknown = (await c
      .subscribe(['runtime.notifications'])
      .catch((e: unknown) => e)) as LegacyLaneError;
    expect([unknown.code, unknown.forbiddenTopics]).toEqual(['forbidden_topic', ['runtime.notifications']]);
    await expect(c.subscribe([RUNS])).resolves.toMatchObject({ topics: [RUNS] });
  });

  it('refuses the upgrade for a forged, expired or missing token and a wrong vsn; keeps serving good ones', async () => {
    const l = await lane();
    const forged = await mintToken(parseKeyring('lane-test=an-attacker-secret-of-32-bytes-xx', 'x'), {
      topics: [RUNS],
    });
    const expired = await mintToken(keyring, {
      topics: [RUNS],
      nowSeconds: Math.floor(Date.now() / 1000) - 400,
    });
    for (const token of [forged, expired, '']) {
      await expect(LegacyLaneClient.connect({ url: l.url, token })).rejects.toMatchObject({
        code: 'unauthorized',
      });
    }
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${l.url}?vsn=1.0.0&token=x`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(status).toBe(400);
    await expect(connect(l)).resolves.toBeDefined();
  });

  it('a malformed frame closes only that socket (1007); an unknown event stops only its channel (phx_error)', async () => {
    const l = await lane();
    await rows(l, RUNS, 1, 2);
    const seen: number[] = [];
    const bystander = await connect(l, [RUNS], (u) => seen.push(u.watermark));
    await bystander.subscribe([RUNS]);

    const bad = await rawSocket(l);
    bad.ws.send('{"not":"an array"}');
    expect(await bad.closed).toBe(1007);

    const odd = await rawSocket(l);
    odd.ws.send(JSON.stringify([null, '1', 'sync:v1', 'phx_join', {}]));
    odd.ws.send(JSON.stringify(['1', '2', 'sync:v1', 'sync:frobnicate', {}]));
    odd.ws.send(JSON.stringify(['1', '3', 'sync:v1', 'sync:subscribe', { topics: [RUNS] }]));
    odd.ws.send(JSON.stringify([null, '4', 'phoenix', 'heartbeat', {}]));
    await expect.poll(() => odd.frames.length).toBe(4);
    expect(odd.frames.slice(1)).toEqual([
      [null, null, 'sync:v1', 'phx_error', {}], // joined with join_ref null, so pushes carry null (§1)
      ['1', '3', 'sync:v1', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }],
      [null, '4', 'phoenix', 'phx_reply', { status: 'ok', response: {} }],
    ]);
    odd.ws.close();

    await rows(l, RUNS, 3, 3);
    await expect.poll(() => seen).toEqual([1, 2, 3]);
    expect(l.server.connectionCount()).toBeGreaterThanOrEqual(1);
  });

  it('an over-limit frame closes that socket with 1009 and the lane stays up', async () => {
    const l = await lane();
    const big = await rawSocket(l);
    big.ws.send(JSON.stringify([null, '1', 'sync:v1', 'phx_join', { pad: 'x'.repeat(2 * 1024 * 1024) }]));
    expect(await big.closed).toBe(1009);
    await expect(connect(l)).resolves.toBeDefined();
  });

  it('refuses a generation-2 endpoint by its path, and by its first frame', async () => {
    await expect(
      LegacyLaneClient.connect({
        url: 'ws://127.0.0.1:1/internal/v1/khala/topics/run:1:events/ws',
        token: 't',
      }),
    ).rejects.toMatchObject({ code: 'generation_2_endpoint' });
    // A stand-in that greets like the generation-2 runtime did (§14): {"type":"hello",…}.
    const gen2 = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    gen2.on('connection', (ws) =>
      ws.send(JSON.stringify({ type: 'hello', topic: 'run:1:events', after_seq: 0, limit: 100 })),
    );
    await new Promise((r) => gen2.once('listening', r));
    const port = (gen2.address() as { port: number }).port;
    const err = (await LegacyLaneClient.connect({
      url: `ws://127.0.0.1:${port}/socket/websocket`,
      token: 't',
    }).catch((e: unknown) => e)) as LegacyLaneError;
    expect(err.code).toBe('generation_2_endpoint');
    expect(err.message).toContain('generation-1 Phoenix channel protocol');
    await new Promise((r) => gen2.close(r));
  });

  it('the lane stops a channel that sent nothing for longer than the idle timeout (phx_close)', async () => {
    const l = await lane(undefined, { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 200 });
    const c = await connect(l);
    await expect(c.done).resolves.toMatchObject({ code: 'channel_closed' });
  });
});
