/**
 * Who may call what on the service's HTTP surface, cell by cell: every identity (none, publishers
 * in and out of scope, operator, admin, a token issuer (control service), and tokens that must not be accepted: expired, not yet
 * valid, forged, from another issuer, for another audience) against every Connect method served.
 * A forbidden cell is refused with the contract's code and reason (UNAUTHENTICATED /
 * ERROR_REASON_UNAUTHENTICATED, or PERMISSION_DENIED / ERROR_REASON_UNAUTHORIZED with the refused
 * action) and changes nothing; an allowed cell does what the method does. The cells are one table
 * (MATRIX: a row per method, a column per identity, read as (method, identity, expected) rows) run
 * by one loop. The first case is the security audit's probe (finding 1): an anonymous publish that
 * used to block a stream for good.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ISSUER, readLocalIssuerKey } from '../../adapter/auth/local-issuer.js';
import { POLICY_KEYS } from '../../adapter/auth/policy.js';
import { SERVED_SERVICES } from '../../adapter/http/http-server.js';
import type { RunningService } from '../../adapter/service.js';
import { AdminService, CutoverLane } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  UnauthorizedDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { TokenService } from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import { TEST_ISSUER_KEY_FILE, testToken } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

let service: RunningService;
beforeAll(async () => {
  service = await startTestService();
  // A stream every reader can be asked about.
  await createClient(IngestService, transport(await testToken())).publish({
    envelopes: [syncEnvelope('matrix:seed', 'seed', '{}', 1n)],
  });
}, 120_000);
afterAll(() => service?.stop());

function transport(token: string | undefined, grpcWeb = false): Transport {
  const authorize: Interceptor = (next) => (req) => {
    if (token) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
  const o = { baseUrl: service.httpUrl, httpVersion: '1.1' as const, interceptors: [authorize] };
  return grpcWeb ? createGrpcWebTransport(o) : createConnectTransport(o);
}

const now = () => Math.floor(Date.now() / 1000);
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

/** A token signed by `key` with these registered claims (and admin roles: only the checks can refuse it). */
function raw(key: typeof stranger, claims: { iss?: string; aud?: string; exp?: number; nbf?: number }) {
  return new SignJWT({ roles: ['admin'] })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(claims.iss ?? LOCAL_ISSUER)
    .setAudience(claims.aud ?? 'spacetime-sync')
    .setSubject('matrix')
    .setIssuedAt(now() - 3600)
    .setExpirationTime(claims.exp ?? now() + 600)
    .setNotBefore(claims.nbf ?? now() - 60)
    .sign(key);
}

/** Who calls: the matrix (below) has a column per identity, in this order. */
const COLUMNS = [
  'anonymous',
  'expired',
  'not yet valid',
  'forged signature',
  'other issuer',
  'wrong audience',
  'publisher of matrix:',
  'publisher of other:',
  'operator',
  'admin',
  'token issuer',
  'client device-1',
  'client device-2',
  'client did device-1',
  'client did device-2, sub device-1',
  'minted client device-1',
  'minted client device-2',
] as const;
type Identity = (typeof COLUMNS)[number];

const IDENTITIES: Record<Identity, () => Promise<string | undefined>> = {
  anonymous: async () => undefined,
  'publisher of matrix:': () => testToken({ roles: ['publisher'], streams: ['matrix:'], subject: 'pub-p' }),
  'publisher of other:': () => testToken({ roles: ['publisher'], streams: ['other:'], subject: 'pub-o' }),
  operator: () => testToken({ roles: ['operator'], subject: 'op' }),
  // Minted by the service's TokenService/MintClientToken (role client, did = the device).
  'minted client device-1': () => minted('device-1'),
  'minted client device-2': () => minted('device-2'),
  'client device-1': () => testToken({ roles: ['client'], subject: 'device-1' }),
  'client device-2': () => testToken({ roles: ['client'], subject: 'device-2' }),
  'client did device-1': () =>
    testToken({ roles: ['client'], subject: 'u-7:device-1:s-1', deviceId: 'device-1' }),
  'client did device-2, sub device-1': () =>
    testToken({ roles: ['client'], subject: 'device-1', deviceId: 'device-2' }),
  admin: () => testToken({ roles: ['admin'], subject: 'adm' }),
  'token issuer': () => testToken({ roles: ['token_issuer'], subject: 'control' }),
  // Past the 30 s skew either way.
  expired: () => raw(readLocalIssuerKey(TEST_ISSUER_KEY_FILE), { exp: now() - 120 }),
  'not yet valid': () => raw(readLocalIssuerKey(TEST_ISSUER_KEY_FILE), { nbf: now() + 120 }),
  // The local issuer's name, another key.
  'forged signature': () => raw(stranger, {}),
  'other issuer': () => raw(stranger, { iss: 'https://issuer.example' }),
  'wrong audience': () => raw(readLocalIssuerKey(TEST_ISSUER_KEY_FILE), { aud: 'another-service' }),
};

/** A client token as a control service gets it for a desktop client: through MintClientToken. */
async function minted(deviceId: string): Promise<string> {
  const control = transport(await testToken({ roles: ['token_issuer'], subject: 'control' }));
  const res = await createClient(TokenService, control).mintClientToken({
    userId: 'u-9',
    deviceId,
    sessionId: `s-${deviceId}`,
    streams: ['matrix:seed'],
  });
  return res.token;
}

type Cell = 'ok' | 'unauthenticated' | 'denied';

/** How a method is called, what an allowed call must show, and the action a refusal names. */
interface Method {
  /** Calls the method as `who`. */
  readonly call: (t: Transport, who: string) => Promise<unknown>;
  /** What the successful call returned, checked for allowed cells. */
  readonly works: (result: unknown, who: string) => void;
  readonly action: string;
}

const stream = (who: string) => `matrix:${who.replace(/\W+/g, '-')}`;
// Past the gate, the cutover methods answer as their handlers do (AdvanceCutover refuses: no operator
// SpacetimeDB token); that is not authorization's business.
const servedPastTheGate = () => {};

const METHODS = {
  'IngestService/Publish': {
    action: 'publish',
    call: (t, who) =>
      createClient(IngestService, t).publish({ envelopes: [syncEnvelope(stream(who), 'k', '{}', 1n)] }),
    works: (r, who) =>
      expect((r as { results: unknown[] }).results).toEqual([
        expect.objectContaining({ streamId: stream(who), seq: 1n, outcome: PublishOutcome.APPENDED }),
      ]),
  },
  'IngestService/Negotiate': {
    action: 'negotiate',
    call: (t) => createClient(IngestService, t).negotiate({ supported: [{ major: 1, minor: 0 }] }),
    works: (r) => expect((r as { chosen?: { major: number } }).chosen?.major).toBe(1),
  },
  'AdminService/GetStatus': {
    action: 'get status',
    call: (t) => createClient(AdminService, t).getStatus({}),
    works: (r) => expect((r as { version: string }).version).not.toBe(''),
  },
  'AdminService/GetStreamHead': {
    action: 'get stream head',
    call: (t) => createClient(AdminService, t).getStreamHead({ streamId: 'matrix:seed' }),
    works: (r) => expect((r as { headSeq: bigint }).headSeq).toBe(1n),
  },
  'AdminService/GetLag': {
    action: 'get lag',
    call: (t) => createClient(AdminService, t).getLag({ streamIds: ['matrix:seed'] }),
    works: (r) =>
      expect((r as { streams: unknown[] }).streams).toEqual([
        expect.objectContaining({ streamId: 'matrix:seed', lastSourceSeq: 1n }),
      ]),
  },
  'AdminService/GetCutoverState': {
    action: 'get cutover state',
    call: (t) => createClient(AdminService, t).getCutoverState({}),
    works: servedPastTheGate,
  },
  'AdminService/SetCutoverState': {
    action: 'set cutover state',
    call: (t, who) =>
      createClient(AdminService, t).setCutoverState({
        lane: CutoverLane.LEGACY,
        reason: 'matrix',
        actor: who,
      }),
    works: servedPastTheGate,
  },
  'AdminService/AdvanceCutover': {
    action: 'advance the cutover',
    call: (t, who) => createClient(AdminService, t).advanceCutover({ reason: 'matrix', actor: who }),
    works: servedPastTheGate,
  },
  'AdminService/RollbackCutover': {
    action: 'roll the cutover back',
    call: (t, who) => createClient(AdminService, t).rollbackCutover({ reason: 'matrix', actor: who }),
    works: servedPastTheGate,
  },
  'AdminService/RouteClient': {
    action: 'route a client',
    // Always asks for device-1: that client may, another may not ask on its behalf.
    call: (t) => createClient(AdminService, t).routeClient({ clientId: 'device-1' }),
    works: (r) => expect((r as { lane: CutoverLane }).lane).toBe(CutoverLane.LEGACY),
  },
  'TokenService/MintClientToken': {
    action: 'mint client tokens',
    call: (t, who) =>
      createClient(TokenService, t).mintClientToken({
        userId: 'u',
        deviceId: 'd',
        sessionId: who.replace(/\W+/g, '-'),
        streams: ['matrix:seed'],
      }),
    works: (r) => expect((r as { streams: string[] }).streams).toEqual(['matrix:seed']),
  },
  'TokenService/RevokeClientSession': {
    action: 'revoke client sessions',
    call: (t, who) =>
      createClient(TokenService, t).revokeClientSession({ sessionId: `rev-${who.replace(/\W+/g, '-')}` }),
    works: (r) => expect(r).toBeDefined(),
  },
} satisfies Record<string, Method>;

type MethodName = keyof typeof METHODS;
const PUBLISH: Method = METHODS['IngestService/Publish'];

const A: Cell = 'ok';
const U: Cell = 'unauthenticated';
const D: Cell = 'denied';
/** The six tokens no method accepts: none, expired, not yet valid, forged, other issuer, wrong audience. */
const REFUSED = [U, U, U, U, U, U] as const;
type Row = readonly [...typeof REFUSED, Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell, Cell];

// Desktop clients (role client) may call RouteClient for their own device only, keyed on the token's
// `did` when it has one (a minted client token's subject is user:device:session), else its subject.
// Tokens minted by the service's MintClientToken carry that role (issue 13): the last two columns.
// biome-ignore format: aligned by column
const MATRIX: Record<MethodName, Row> = {
  //                                 refused     pub m: pub o: oper admin issuer | c dev-1 c dev-2 did-1 did-2/sub-1 minted-1 minted-2
  'IngestService/Publish':           [...REFUSED, A,     D,     D,   A,    D,       D,      D,      D,    D,    D,       D],
  'IngestService/Negotiate':         [...REFUSED, A,     A,     A,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/GetStatus':          [...REFUSED, D,     D,     A,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/GetStreamHead':      [...REFUSED, A,     D,     A,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/GetLag':             [...REFUSED, A,     D,     A,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/GetCutoverState':    [...REFUSED, D,     D,     A,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/SetCutoverState':    [...REFUSED, D,     D,     D,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/AdvanceCutover':     [...REFUSED, D,     D,     D,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/RollbackCutover':    [...REFUSED, D,     D,     D,   A,    D,       D,      D,      D,    D,    D,       D],
  'AdminService/RouteClient':        [...REFUSED, D,     D,     A,   A,    D,       A,      D,      A,    D,    A,       D],
  'TokenService/MintClientToken':    [...REFUSED, D,     D,     D,   A,    A,       D,      D,      D,    D,    D,       D],
  'TokenService/RevokeClientSession':[...REFUSED, D,     D,     D,   A,    A,       D,      D,      D,    D,    D,       D],
};

/** The cells as (method, identity, expected) rows. */
const CELLS = (Object.keys(MATRIX) as MethodName[]).flatMap((method) =>
  COLUMNS.map((who, i) => [method, who, MATRIX[method][i] as Cell] as const),
);

/** The call's result, or the ConnectError it failed with. */
async function attempt(m: Method, t: Transport, who: string): Promise<unknown> {
  try {
    return await m.call(t, who);
  } catch (e) {
    return ConnectError.from(e);
  }
}

function expectRefused(result: unknown, cell: Cell, action: string): void {
  expect(result).toBeInstanceOf(ConnectError);
  const e = result as ConnectError;
  const [info] = e.findDetails(ErrorInfoSchema);
  const [detail] = e.findDetails(UnauthorizedDetailSchema);
  if (cell === 'unauthenticated') {
    expect([Code[e.code], info?.reason]).toEqual([Code[Code.Unauthenticated], ErrorReason.UNAUTHENTICATED]);
  } else {
    expect([Code[e.code], info?.reason]).toEqual([Code[Code.PermissionDenied], ErrorReason.UNAUTHORIZED]);
    expect(detail?.action).toBe(action);
  }
  expect(detail).toBeDefined();
}

describe('authorization matrix', () => {
  it("the audit's probe: an anonymous publish with authority seq 2^64-1 is refused and appends nothing", async () => {
    const e = await attempt(
      {
        ...PUBLISH,
        call: (t) =>
          createClient(IngestService, t).publish({
            envelopes: [syncEnvelope('orders:1', 'attack', '{}', 2n ** 64n - 1n)],
          }),
      },
      transport(undefined),
      'attacker',
    );
    expectRefused(e, 'unauthenticated', 'publish');
    expect(service.writer.stream('orders:1')).toBeUndefined();
  });

  it('every method the service serves has a policy row and a column here', () => {
    const served = SERVED_SERVICES.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`));
    expect([...POLICY_KEYS].sort()).toEqual([...served].sort());
    const here = Object.keys(MATRIX).map((m) => `spacetime_sync.v1.${m}`);
    expect(here.sort()).toEqual([...served].sort());
    // Every identity has a column.
    expect([...COLUMNS].sort()).toEqual(Object.keys(IDENTITIES).sort());
  });

  it.each(CELLS)('%s as %s: %s', async (method, who, cell) => {
    const m: Method = METHODS[method];
    const result = await attempt(m, transport(await IDENTITIES[who]()), who);
    if (cell === 'ok') {
      if (result instanceof ConnectError) {
        // Served past the gate: whatever the handler says, it is not an authorization refusal.
        expect([Code.Unauthenticated, Code.PermissionDenied]).not.toContain(result.code);
        expect(m.works).toBe(servedPastTheGate);
      } else m.works(result, who);
    } else {
      expectRefused(result, cell, m.action);
      if (method === 'IngestService/Publish') expect(service.writer.stream(stream(who))).toBeUndefined();
    }
  });

  it('a publisher is refused a batch with one envelope outside its prefix, named by index, and nothing is appended', async () => {
    const t = transport(await IDENTITIES['publisher of matrix:']());
    const e = await attempt(
      {
        ...PUBLISH,
        call: (tr) =>
          createClient(IngestService, tr).publish({
            envelopes: [syncEnvelope('matrix:mixed', 'a', '{}', 1n), syncEnvelope('orders:9', 'b', '{}', 1n)],
          }),
      },
      t,
      'x',
    );
    expectRefused(e, 'denied', 'publish');
    expect((e as ConnectError).findDetails(UnauthorizedDetailSchema)[0]?.resource).toBe('orders:9');
    expect((e as ConnectError).rawMessage).toMatch(/envelopes\[1\]/);
    expect(service.writer.stream('matrix:mixed')).toBeUndefined();
  });

  it('a publisher scoped to authority topics may publish only envelopes from them', async () => {
    const t = transport(await testToken({ roles: ['publisher'], topics: ['billing'] }));
    const ingest = createClient(IngestService, t);
    const ok = await ingest.publish({
      envelopes: [syncEnvelope('invoices:1', 'i1', '{}', 1n, { authorityTopic: 'billing' })],
    });
    expect(ok.results[0]?.outcome).toBe(PublishOutcome.APPENDED);
    const refused = await ingest
      .publish({ envelopes: [syncEnvelope('invoices:1', 'i2', '{}', 2n, { authorityTopic: 'runtime' })] })
      .catch((e: unknown) => ConnectError.from(e));
    expectRefused(refused, 'denied', 'publish');
    expect(service.writer.stream('invoices:1')?.head).toBe(1n);
  });

  it('the same refusals reach gRPC-web clients (the scope check is not tied to the Connect protocol)', async () => {
    const anonymous = await attempt(PUBLISH, transport(undefined, true), 'grpc-web-anon');
    expectRefused(anonymous, 'unauthenticated', 'publish');
    const outside = await attempt(
      PUBLISH,
      transport(await IDENTITIES['publisher of other:'](), true),
      'grpc-web-other',
    );
    expectRefused(outside, 'denied', 'publish');
    const inside = await attempt(
      PUBLISH,
      transport(await IDENTITIES['publisher of matrix:'](), true),
      'grpc-web-in',
    );
    PUBLISH.works(inside, 'grpc-web-in');
  });

  it('a raw POST without a token is answered 401 with WWW-Authenticate before its body is read', async () => {
    const res = await fetch(`${service.httpUrl}/spacetime_sync.v1.IngestService/Publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"envelopes":[]}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await res.json()) as { code: string }).code).toBe('unauthenticated');
  });
});
