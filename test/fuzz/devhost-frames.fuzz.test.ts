/**
 * Fuzz: devhost's websocket frame decoder (BSATN `ClientMessage`s, v2: one per frame, v3: back to
 * back) alone and through a live server socket. Inputs: arbitrary bytes, and valid messages of every
 * kind (Subscribe, Unsubscribe, OneOffQuery, CallReducer with valid or arbitrary arguments,
 * CallProcedure) encoded and mutated byte by byte, on v2 and v3, sometimes as text frames.
 * Decoding gives the messages or the documented `ClientFrameError`; the live server either answers
 * a probe query sent behind the frame (the frame was handled) or closes that socket with a close
 * code and reason — and it keeps accepting and serving new connections.
 */
import fc from 'fast-check';
import { BinaryWriter } from 'spacetimedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../../devhost/host/index.js';
import {
  ClientFrameError,
  decodeClientFrame,
  V2_PROTOCOL,
  V3_PROTOCOL,
} from '../../devhost/server/framing.js';
import { type DevhostServer, startServer } from '../../devhost/server/index.js';
import {
  openTestDatabase,
  RawClient,
  reducerArgs,
  registry,
} from '../../devhost/server/testing/e2e-harness.js';
import { ClientMessage } from '../../devhost/stdb-internal/client-api.js';
import { anyBytes, fuzz, fuzzTimeout, mutated } from './fuzz.js';

let db: DevhostDatabase;
let server: DevhostServer;

beforeAll(async () => {
  db = await openTestDatabase('main');
  server = await startServer({ databases: registry(db) });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await db?.close();
});

const u32 = fc.nat({ max: 0xffffffff });
const SQL = [
  'SELECT * FROM person',
  'SELECT * FROM counter WHERE value > 3',
  'SELECT * FROM nope',
  'SELEC',
  '',
];
const REDUCERS = ['add_person', 'rename_person', 'delete_person', 'no_such_reducer', ''];

const validArgs = fc
  .record({ name: fc.string({ maxLength: 16 }), age: u32, team: fc.string({ maxLength: 4 }), level: u32 })
  .map((p) => reducerArgs(db, 'add_person', p));

const messages: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({
    tag: fc.constant('Subscribe' as const),
    value: fc.record({
      requestId: u32,
      querySetId: fc.record({ id: fc.nat({ max: 8 }) }),
      queryStrings: fc.array(fc.oneof(fc.constantFrom(...SQL), fc.string({ maxLength: 40 })), {
        maxLength: 3,
      }),
    }),
  }),
  fc.record({
    tag: fc.constant('Unsubscribe' as const),
    value: fc.record({
      requestId: u32,
      querySetId: fc.record({ id: fc.nat({ max: 8 }) }),
      flags: fc.constantFrom(
        { tag: 'Default' as const, value: {} },
        { tag: 'SendDroppedRows' as const, value: {} },
      ),
    }),
  }),
  fc.record({
    tag: fc.constant('OneOffQuery' as const),
    value: fc.record({
      requestId: u32,
      queryString: fc.oneof(fc.constantFrom(...SQL), fc.string({ maxLength: 40 })),
    }),
  }),
  fc.record({
    tag: fc.constant('CallReducer' as const),
    value: fc.record({
      requestId: u32,
      flags: fc.constant(0),
      reducer: fc.oneof(fc.constantFrom(...REDUCERS), fc.string({ maxLength: 12 })),
      args: fc.oneof(validArgs, fc.uint8Array({ maxLength: 32 })),
    }),
  }),
  fc.record({
    tag: fc.constant('CallProcedure' as const),
    value: fc.record({
      requestId: u32,
      flags: fc.constant(0),
      procedure: fc.string({ maxLength: 12 }),
      args: fc.uint8Array({ maxLength: 16 }),
    }),
  }),
) as fc.Arbitrary<ClientMessage>;

function encode(list: readonly ClientMessage[]): Uint8Array {
  const w = new BinaryWriter(64);
  for (const m of list) ClientMessage.serialize(w, m);
  return w.getBuffer();
}

const frames = fc.oneof(
  { weight: 1, arbitrary: anyBytes(1024) },
  { weight: 1, arbitrary: fc.array(messages, { minLength: 1, maxLength: 3 }).map(encode) },
  { weight: 3, arbitrary: mutated(fc.array(messages, { minLength: 1, maxLength: 3 }).map(encode)) },
);

const version = fc.constantFrom('v2' as const, 'v3' as const);
/** Sockets in flight at once (see `fuzz`'s `parallel`). */
const PARALLEL = 4;

describe('fuzz: devhost websocket frames', () => {
  it(
    'the decoder: messages or a ClientFrameError',
    async () => {
      await fuzz(
        'devhost/decode',
        fc.tuple(frames, version),
        ([bytes, v]) => {
          try {
            const decoded = decodeClientFrame(bytes, v);
            expect(decoded.length).toBeGreaterThan(0);
            if (v === 'v2') expect(decoded).toHaveLength(1);
          } catch (e) {
            if (!(e instanceof ClientFrameError)) throw e;
          }
        },
        { ciRuns: 1000 },
      );
    },
    fuzzTimeout(),
  );

  it(
    'a live server: each frame handled or its socket closed with a reason; the server keeps serving',
    async () => {
      // Open sockets between cases, one per input in flight; a socket the server closed is replaced.
      const idle: RawClient[] = [];
      let probeId = 1_000_000_000;
      // Waits on the socket's own events, not expect.poll: vitest keeps every poll of a test until it
      // ends, which a long run's hundred thousand reconnects turned into hundreds of MiB.
      const fresh = async (v: 'v2' | 'v3') => {
        const c = await RawClient.open(server.url, 'main', {
          protocols: [v === 'v2' ? V2_PROTOCOL : V3_PROTOCOL],
        });
        await new Promise<void>((resolve, reject) => {
          const check = () => {
            if (!c.messages.some((m) => m.tag === 'InitialConnection')) return;
            c.ws.off('message', check);
            resolve();
          };
          c.ws.on('message', check);
          void c.closed.then((why) =>
            reject(new Error(`closed before InitialConnection: ${why.code} ${why.reason}`)),
          );
          check();
        });
        return c;
      };
      const take = async (v: 'v2' | 'v3') => {
        const expected = v === 'v2' ? V2_PROTOCOL : V3_PROTOCOL;
        const at = idle.findIndex((c) => c.protocol === expected);
        const c = at >= 0 ? idle.splice(at, 1)[0] : undefined;
        return c && c.ws.readyState === c.ws.OPEN ? c : fresh(v);
      };
      await fuzz(
        'devhost/socket',
        fc.tuple(
          frames,
          version,
          fc.boolean().map((t) => t && Math.random() < 0.1),
        ),
        async ([bytes, v, asText]) => {
          const c = await take(v);
          const id = probeId++;
          let onMessage = () => {};
          const outcome = new Promise<'answered' | { code: number; reason: string }>((resolve) => {
            onMessage = () => {
              if (c.messages.some((m) => m.tag === 'OneOffQueryResult' && m.value.requestId === id))
                resolve('answered');
            };
            c.ws.on('message', onMessage);
            void c.closed.then(resolve);
          }).finally(() => c.ws.off('message', onMessage));
          c.ws.send(asText ? Buffer.from(bytes).toString('latin1') : bytes, { binary: !asText });
          c.send({ tag: 'OneOffQuery', value: { requestId: id, queryString: 'SELECT * FROM counter' } });
          const result = await outcome;
          c.frames.splice(0); // what this case received is judged; a long run must not keep it
          if (result === 'answered') idle.push(c);
          else {
            expect([1002, 1003, 1007, 1008, 1009, 1011]).toContain(result.code);
            expect(result.reason.length).toBeGreaterThan(0);
          }
        },
        { ciRuns: 200, caseTimeoutMs: 15_000, parallel: PARALLEL },
      );
      await Promise.all(idle.splice(0).map((c) => c.close()));
      const after = await fresh('v3');
      after.send({
        tag: 'Subscribe',
        value: { requestId: 1, querySetId: { id: 1 }, queryStrings: ['SELECT * FROM counter'] },
      });
      await after.next('SubscribeApplied');
      await after.close();
    },
    fuzzTimeout(120_000),
  );
});
