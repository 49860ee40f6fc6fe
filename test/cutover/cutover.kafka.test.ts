/**
 * The cutover end to end, over the real broker, the service on devhost and the reference legacy lane
 * fed from the same authority log, with shadow parity and the delivery probe running: the controller
 * walks legacy_only → shadow → canary 10 % → 50 % → primary on live gates while desktop clients
 * (LaneClient) follow their cohort's lane, each receiving every event exactly once across its
 * switches; a restarted service resumes mid-stage; an event only one lane carries (an injected parity
 * fault) rolls primary back on its own; the shadow stage it lands in does not count that older
 * divergence, and an advance while a divergence of its own is in the gate window is refused with the
 * reason; and an operator's rollback from primary works. Gate windows are short
 * settings here; every wait is on a condition.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cohortBucket } from '../../adapter/cutover/cohort.js';
import { cutoverConfig } from '../../adapter/cutover/config.js';
import { type Lane, LaneClient, type LaneEvent } from '../../client/lanes/lane-client.js';
import {
  AdminService,
  CutoverLane,
  CutoverStage,
} from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { InvalidDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { OPERATOR_TOKEN_HEADER } from '../../shared/operator-token.js';
import { DualStack } from '../parity/testing/dual-stack.js';
import { authedTransport } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';

const TOPIC = 'runtime.run_summaries';
const STREAMS = ['run:1', 'run:2', 'run:3'];
const WINDOW_MS = 15_000;

const config = cutoverConfig(
  {
    CUTOVER_TICK_MS: '200',
    CUTOVER_GATE_WINDOW_MS: String(WINDOW_MS),
    CUTOVER_MIN_PARITY_COMPARED: '3',
    // The machine is shared and slow: the latency SLO is not what this test is about.
    CUTOVER_MAX_FANOUT_P99_MS: '10000',
    CUTOVER_MIN_SOAK_SHADOW_MS: '300',
    CUTOVER_MIN_SOAK_CANARY_MS: '300',
    CUTOVER_MIN_SOAK_PRIMARY_MS: '300',
  },
  (v, m) => new Error(`${v}: ${m}`),
);

let stack: DualStack;
const clients: { id: string; bucket: number; client: LaneClient; got: LaneEvent[]; switches: string[] }[] =
  [];
/** Per stream, the authority seqs produced on the shared log (both lanes carry them). */
const produced = new Map<string, bigint[]>(STREAMS.map((s) => [s, []]));
let nextSeq = 1n;

const admin = () => createClient(AdminService, authedTransport(stack.service.httpUrl));
const asOwner = () => ({ headers: { [OPERATOR_TOKEN_HEADER]: stack.ownerToken } });
const stage = async () => (await admin().getCutoverState({})).state;

/** Two device ids in each cohort range: inside 10 %, between 10 and 50 %, outside 50 %. */
function deviceIds(): { id: string; bucket: number }[] {
  const picked: { id: string; bucket: number }[] = [];
  const ranges: [number, number][] = [
    [0, 10],
    [10, 50],
    [50, 100],
  ];
  for (const [lo, hi] of ranges) {
    for (let i = 0, n = 0; n < 2; i++) {
      const id = `device-${lo}-${i}`;
      const bucket = cohortBucket(id);
      if (bucket >= lo && bucket < hi) {
        picked.push({ id, bucket });
        n++;
      }
    }
  }
  return picked;
}

/** Events on the shared log: each stream gets `perStream` more, in authority order. */
async function produce(perStream: number): Promise<void> {
  const envs = [];
  for (let i = 0; i < perStream; i++) {
    for (const s of STREAMS) {
      const seq = nextSeq++;
      produced.get(s)?.push(seq);
      envs.push(
        syncEnvelope(s, `${s}#${seq}`, `{"stream":"${s}","n":${seq}}`, seq, { authorityTopic: TOPIC }),
      );
    }
  }
  await stack.produce(stack.shared, envs);
}

/** Every client has every produced event, each once, in authority order per stream. */
async function everyClientHasEverything(): Promise<void> {
  await vi.waitFor(
    () => {
      for (const c of clients) {
        for (const s of STREAMS) {
          const seqs = c.got.filter((e) => e.streamId === s).map((e) => e.authoritySeq);
          expect(seqs, `${c.id} (bucket ${c.bucket}, on ${c.client.lane}) stream ${s}`).toEqual(
            produced.get(s),
          );
        }
      }
    },
    { timeout: 60_000, interval: 200 },
  );
}

/** Clients ask for their lane every 100 ms: wait until each follows its cohort's lane. */
async function lanesAre(expected: (bucket: number) => Lane): Promise<void> {
  await vi.waitFor(
    () => {
      for (const c of clients) expect(c.client.lane, `${c.id} bucket ${c.bucket}`).toBe(expected(c.bucket));
    },
    { timeout: 30_000, interval: 100 },
  );
}

/**
 * Advances once the gates allow it. Traffic keeps flowing meanwhile (the compared-event floor needs
 * fresh comparisons inside the window), so each refused try is followed by one more event per stream.
 */
async function advance(req: { to?: CutoverStage; percent?: number; reason: string }) {
  return vi.waitFor(
    async () => {
      try {
        return await admin().advanceCutover({ ...req, actor: 'e2e' }, asOwner());
      } catch (e) {
        await produce(1);
        throw e;
      }
    },
    { timeout: 60_000, interval: 300 },
  );
}

beforeAll(async () => {
  stack = await DualStack.start([TOPIC], {
    // A loaded machine can hold one lane seconds behind the other: the grace keeps that from counting
    // as a divergence (a real one, the injected fault, is counted once the grace has passed).
    shadow: { sampleRate: 1, graceMs: 20_000, tickMs: 200 },
    cutover: config,
    probeIntervalMs: 100,
  });
  for (const { id, bucket } of deviceIds()) {
    const got: LaneEvent[] = [];
    const switches: string[] = [];
    const client = await LaneClient.open({
      route: async () => {
        // As a desktop client asks: with a client token for its own id, not an operator's.
        const r = await createClient(
          AdminService,
          authedTransport(stack.service.httpUrl, { roles: ['client'], subject: id }),
        ).routeClient({ clientId: id });
        return r.lane === CutoverLane.SPACETIME ? 'spacetime' : 'legacy';
      },
      routeIntervalMs: 100,
      spacetime: {
        uri: stack.candidateUri,
        database: stack.service.database,
        token: stack.ownerToken,
        clientId: id,
      },
      legacy: { url: stack.legacy.url, token: async () => stack.legacyToken },
      streams: STREAMS,
      topics: [TOPIC],
      onEvent: (e) => got.push(e),
      onSwitch: (from, to) => switches.push(`${from}->${to}`),
    });
    clients.push({ id, bucket, client, got, switches });
  }
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.client.close();
  await stack?.stop();
});

describe('cutover end to end', () => {
  it('walks legacy_only → shadow → canary 10 % → 50 % → primary; clients get every event once across their switch', async () => {
    await produce(2);
    await everyClientHasEverything();
    expect(clients.every((c) => c.got.every((e) => e.lane === 'legacy'))).toBe(true);

    await advance({ reason: 'start the shadow' });
    expect((await stage())?.stage).toBe(CutoverStage.SHADOW);
    // Every gate reads a live figure here (auth failures from the authentication layer's counter)
    // once the controller sampled the new stage (parity evidence counts from the stage's start).
    await vi.waitFor(
      async () => {
        const unmeasured = (await admin().getCutoverState({})).gates.filter((g) => g.reading === undefined);
        expect(unmeasured.map((g) => g.gate)).toEqual([]);
      },
      { timeout: 10_000, interval: 100 },
    );
    await produce(2); // compared by the shadow: the canary's parity evidence

    await advance({ percent: 10, reason: 'first canary' });
    expect(await stage()).toMatchObject({ stage: CutoverStage.CANARY, canaryPercent: 10 });
    await lanesAre((b) => (b < 10 ? 'spacetime' : 'legacy'));
    await produce(2);
    await everyClientHasEverything();

    await advance({ percent: 50, reason: 'half' });
    await lanesAre((b) => (b < 50 ? 'spacetime' : 'legacy'));
    await produce(2);
    await everyClientHasEverything();

    // A restart mid-stage resumes the stored stage; clients ride it out.
    const before = await stage();
    await stack.restartCandidate();
    expect(await stage(), (await stage())?.reason).toMatchObject({
      stage: CutoverStage.CANARY,
      canaryPercent: 50,
      revision: before?.revision,
    });
    await produce(2);
    await everyClientHasEverything();

    await advance({ to: CutoverStage.SPACETIME_PRIMARY, reason: 'everyone' });
    await lanesAre(() => 'spacetime');
    await produce(2);
    await everyClientHasEverything();

    const auto = (await admin().getCutoverState({})).history.filter((h) => h.automatic);
    expect(auto.map((h) => h.reason)).toEqual([]);
    // A client in the canary at 10 % stayed there at 50 % and primary: one switch, no flapping.
    for (const c of clients) expect(c.switches, c.id).toEqual(['legacy->spacetime']);
    const got = clients.flatMap((c) => c.got.map((e) => e.lane));
    expect(got).toContain('legacy');
    expect(got).toContain('spacetime');
  }, 300_000);

  it('an injected parity fault in primary rolls back on its own; an advance is refused while a divergence of the new stage is in the window', async () => {
    // One event only the candidate's feed carries: an `extra` divergence once the grace has passed.
    await stack.produce(stack.candidateOnly, [
      syncEnvelope('run:9', 'run:9#fault', '{"fault":true}', nextSeq++, { authorityTopic: TOPIC }),
    ]);
    await vi.waitFor(async () => expect((await stage())?.stage).toBe(CutoverStage.SHADOW), {
      timeout: 60_000,
      interval: 200,
    });
    const s = await admin().getCutoverState({});
    const trail = s.history
      .map((h) => `${h.revision} ${h.move} ${h.from}->${h.to} ${h.actor} ${h.reason}`)
      .join('\n');
    expect(
      s.history[0],
      `${JSON.stringify(s.state, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n${trail}`,
    ).toMatchObject({ move: 'rollback', automatic: true, actor: 'automatic rollback' });
    expect(s.history[0]?.from).toBe(CutoverStage.SPACETIME_PRIMARY);
    expect(s.history[0]?.reason).toMatch(/^gate breach in spacetime_primary: parity_mismatches [1-9]\d* > 0/);
    expect(s.history[0]?.gates.find((g) => g.gate === 'parity_mismatches')?.ok).toBe(false);
    const metrics = await (await fetch(`${stack.service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^spacetime_sync_cutover_automatic_rollbacks_total 1$/m);
    await lanesAre(() => 'legacy');

    // The divergence that rolled primary back was recorded before this shadow stage began: no evidence
    // about it. A new one, recorded in this stage, closes the gate for an advance.
    const parityReading = async () =>
      (await admin().getCutoverState({})).gates.find((g) => g.gate === 'parity_mismatches')?.reading;
    await vi.waitFor(async () => expect(await parityReading()).toBe(0), { timeout: 10_000, interval: 100 });
    await stack.produce(stack.candidateOnly, [
      syncEnvelope('run:9', 'run:9#fault-2', '{"fault":2}', nextSeq++, { authorityTopic: TOPIC }),
    ]);
    await vi.waitFor(async () => expect(await parityReading()).toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 200,
    });
    const refused = await admin()
      .advanceCutover({ percent: 10, reason: 'too soon', actor: 'e2e' }, asOwner())
      .then(
        () => undefined,
        (e) => ConnectError.from(e),
      );
    expect(refused?.code).toBe(Code.InvalidArgument);
    const fields = refused?.findDetails(InvalidDetailSchema)[0]?.fieldViolations.map((v) => v.field);
    expect(fields).toContain('gates.parity_mismatches');
    expect((await stage())?.stage).toBe(CutoverStage.SHADOW);
    await produce(1);
    await everyClientHasEverything();
  }, 180_000);

  it('an operator rolls back from primary by hand', async () => {
    await produce(1); // fresh comparisons once the second fault has left the window
    // Advance until primary from wherever the controller stands: an advance is refused until the
    // shadow stage's own fault has left the window.
    await vi.waitFor(
      async () => {
        const now = (await stage())?.stage;
        if (now === CutoverStage.SPACETIME_PRIMARY) return;
        if (now === CutoverStage.SHADOW) await advance({ percent: 50, reason: 'again' });
        await advance({ to: CutoverStage.SPACETIME_PRIMARY, reason: 'again' });
        expect((await stage())?.stage).toBe(CutoverStage.SPACETIME_PRIMARY);
      },
      { timeout: 150_000, interval: 500 },
    );
    await lanesAre(() => 'spacetime');
    const r = await admin().rollbackCutover(
      { to: CutoverStage.LEGACY_ONLY, reason: 'drill: back to the legacy lane', actor: 'e2e' },
      asOwner(),
    );
    expect(r.move?.previous?.stage).toBe(CutoverStage.SPACETIME_PRIMARY);
    expect(r.move?.state?.stage).toBe(CutoverStage.LEGACY_ONLY);
    await lanesAre(() => 'legacy');
    await produce(1);
    await everyClientHasEverything();
    const h = (await admin().getCutoverState({})).history[0];
    expect(h).toMatchObject({
      move: 'rollback',
      automatic: false,
      actor: 'e2e',
      reason: 'drill: back to the legacy lane',
    });
  }, 300_000);
});
