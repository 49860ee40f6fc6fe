/**
 * LaneClient across restarts and dropped sockets, over the real broker, the reference legacy lane and
 * the service on devhost, both lanes fed from one authority log: a desktop client closed and opened
 * again on its file cursor store resumes on either lane without losing or repeating an event (and one
 * without a store starts over, the control); a legacy socket dropped by a lane restart is reconnected
 * by the client itself, with backoff, losing and repeating nothing. Every wait is on a condition.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileCursorStore, MemoryCursorStore } from '../../client/cursor-store.js';
import { type Lane, LaneClient, type LaneEvent } from '../../client/lanes/lane-client.js';
import { DualStack } from '../parity/testing/dual-stack.js';
import { syncEnvelope } from '../support/envelopes.js';

const TOPIC = 'runtime.run_summaries';
const STREAMS = ['run:1', 'run:2'];

let stack: DualStack;
let nextSeq = 1n;
/** Per stream, the authority seqs produced so far. */
const produced = new Map<string, bigint[]>(STREAMS.map((s) => [s, []]));

async function produce(perStream: number): Promise<Map<string, bigint[]>> {
  const fresh = new Map<string, bigint[]>(STREAMS.map((s) => [s, []]));
  const envs = [];
  for (let i = 0; i < perStream; i++) {
    for (const s of STREAMS) {
      const seq = nextSeq++;
      produced.get(s)?.push(seq);
      fresh.get(s)?.push(seq);
      envs.push(
        syncEnvelope(s, `${s}#${seq}`, `{"stream":"${s}","n":${seq}}`, seq, { authorityTopic: TOPIC }),
      );
    }
  }
  await stack.produce(stack.shared, envs);
  return fresh;
}

interface Opened {
  readonly client: LaneClient;
  readonly got: LaneEvent[];
  readonly errors: unknown[];
}

async function open(lane: Lane, o: { store?: FileCursorStore | MemoryCursorStore } = {}): Promise<Opened> {
  const got: LaneEvent[] = [];
  const errors: unknown[] = [];
  const client = await LaneClient.open({
    route: async () => lane,
    routeIntervalMs: 60_000,
    spacetime: {
      uri: stack.candidateUri,
      database: stack.service.database,
      token: stack.ownerToken,
      clientId: 'desktop-restart',
    },
    legacy: {
      url: stack.legacy.url,
      token: async () => stack.legacyToken,
      backoff: { initialMs: 50, maxMs: 1_000 },
    },
    streams: STREAMS,
    topics: [TOPIC],
    ...(o.store ? { store: o.store } : {}),
    onEvent: (e) => got.push(e),
    onError: (e) => errors.push(e),
  });
  return { client, got, errors };
}

/** The client has received exactly `want` per stream, in order, each once. */
async function received(c: Opened, want: ReadonlyMap<string, bigint[]>): Promise<void> {
  await vi.waitFor(
    () => {
      for (const s of STREAMS) {
        const seqs = c.got.filter((e) => e.streamId === s).map((e) => e.authoritySeq);
        expect(seqs, `stream ${s} on ${c.client.lane}`).toEqual(want.get(s));
      }
    },
    { timeout: 60_000, interval: 100 },
  );
}

beforeAll(async () => {
  stack = await DualStack.start([TOPIC]);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe('LaneClient', () => {
  it('a restarted client resumes from its file cursor store on either lane, without loss or repeat', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lane-cursors-')), 'cursors.json');
    const first = await open('legacy', { store: new FileCursorStore(path) });
    await received(first, await produce(3));
    await first.client.close();

    // Each reopen is a new process's store on the same file; events arrive while the client is away.
    const walk: Lane[] = ['legacy', 'spacetime', 'spacetime', 'legacy'];
    for (const lane of walk) {
      const missed = await produce(2);
      const c = await open(lane, { store: new FileCursorStore(path) });
      expect(c.client.lane).toBe(lane);
      await received(c, missed);
      // Nothing after the missed ones: the next events only, once.
      const fresh = await produce(1);
      await received(
        c,
        new Map(STREAMS.map((s) => [s, [...(missed.get(s) ?? []), ...(fresh.get(s) ?? [])]])),
      );
      await c.client.close();
    }
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { watermark: string }>;
    for (const s of STREAMS) expect(saved[`mark:${s}`]?.watermark).toBe(String(produced.get(s)?.at(-1)));
    expect(Number(saved[`legacy:${TOPIC}`]?.watermark)).toBeGreaterThan(0);
    expect(
      Object.keys(saved)
        .filter((k) => k.startsWith('spacetime:'))
        .sort(),
    ).toEqual(STREAMS.map((s) => `spacetime:${s}`).sort());

    // The control: without the store a client starts over and hands everything over again.
    const amnesiac = await open('legacy', { store: new MemoryCursorStore() });
    await received(amnesiac, produced);
    await amnesiac.client.close();
  }, 240_000);

  it('reconnects a dropped legacy socket by itself, with backoff, losing and repeating nothing', async () => {
    const c = await open('legacy');
    const all = new Map<string, bigint[]>(STREAMS.map((s) => [s, []]));
    const add = (m: Map<string, bigint[]>) => {
      for (const s of STREAMS) all.get(s)?.push(...(m.get(s) ?? []));
    };
    // A fresh client (memory store) replays the retained history first.
    add(new Map(STREAMS.map((s) => [s, [...(produced.get(s) ?? [])]])));
    add(await produce(2));
    await received(c, all);

    // The lane goes away (its socket drops); events keep coming into Kafka; the lane comes back on
    // its journal and port. The application does nothing.
    await stack.legacy.stop();
    add(await produce(3));
    await vi.waitFor(() => expect(c.errors.length).toBeGreaterThan(0), { timeout: 30_000 });
    await stack.startLegacy();
    add(await produce(2));
    await received(c, all);
    expect(c.client.lane).toBe('legacy');
    expect(c.client.legacyReconnects).toBeGreaterThanOrEqual(1);
    await c.client.close();
  }, 240_000);
});
