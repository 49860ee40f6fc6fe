/**
 * The token endpoint end to end on the zero-setup path (issue 14): a control service with the
 * token_issuer role mints a client token over Connect; the service publishes its issuer's
 * openid-configuration and JWKS; the embedded devhost, told to trust the service's issuer at start,
 * validates the token through that JWKS as SpacetimeDB validates third-party tokens; and the client
 * sees exactly its token's streams. Then each refusal of the endpoint, typed with the contract's reason.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { DEFAULT_CLIENT_AUDIENCE } from '../../adapter/tokens/config.js';
import { DbConnection } from '../../module/bindings/index.js';
import { AdminService, CutoverLane } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  InvalidDetailSchema,
  UnauthorizedDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import {
  type MintClientTokenRequest,
  TokenService,
} from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import { authedTransport, type Claims } from '../support/auth.js';
import { type Connected, connect, rejection, subscribe } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

let service: RunningService;
const opened: Connected[] = [];

beforeAll(async () => {
  service = await startTestService();
  await createClient(IngestService, authedTransport(service.httpUrl)).publish({
    envelopes: [
      syncEnvelope('ct:a', 'a1', '{}', 1n),
      syncEnvelope('ct:b', 'b1', '{}', 1n),
      syncEnvelope('other:c', 'c1', '{}', 1n),
    ],
  });
}, 120_000);

afterAll(async () => {
  for (const c of opened) c.conn.disconnect();
  await service?.stop();
});

type Req = Partial<Omit<MintClientTokenRequest, '$typeName' | '$unknown'>>;

const CONTROL: Claims = { roles: ['token_issuer'], subject: 'control-plane' };

function mint(req: Req, claims: Claims = CONTROL) {
  return createClient(TokenService, authedTransport(service.httpUrl, claims)).mintClientToken({
    userId: 'user-1',
    deviceId: 'desk-1',
    sessionId: 'sess-1',
    streams: ['ct:a'],
    ...req,
  });
}

async function refusal(call: Promise<unknown>) {
  const e = await call.then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );
  expect(e).toBeInstanceOf(ConnectError);
  const err = e as ConnectError;
  return {
    code: Code[err.code],
    reason: err.findDetails(ErrorInfoSchema)[0]?.reason,
    fields: [...new Set(err.findDetails(InvalidDetailSchema)[0]?.fieldViolations.map((v) => v.field))],
    resource: err.findDetails(UnauthorizedDetailSchema)[0]?.resource,
  };
}

async function clientWith(token: string): Promise<Connected> {
  const c = await connect({ url: service.spacetimeUrl }, token, service.database);
  opened.push(c);
  await subscribe(c.conn, ['SELECT * FROM sync_event']);
  return c;
}

/** Whether SpacetimeDB lets a connection with `token` in (InitialConnection) or closes it first. */
function connectOutcome(token: string): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    DbConnection.builder()
      .withUri(service.spacetimeUrl)
      .withDatabaseName(service.database)
      .withToken(token)
      .onConnect((c) => {
        c.disconnect();
        resolve('connected');
      })
      .onConnectError(() => resolve('refused'))
      .onDisconnect(() => resolve('refused'))
      .build();
  });
}

const seen = (c: Connected) => [...c.conn.db.syncEvent.iter()].map((e) => e.streamId).sort();

describe('the token endpoint', () => {
  it('mints a token SpacetimeDB accepts through the service’s JWKS; the client sees only its streams', async () => {
    const res = await mint({ streams: ['ct:a', 'ct:a'], ttlSeconds: 120 });
    expect(res).toMatchObject({
      tokenType: 'Bearer',
      issuer: service.httpUrl,
      audience: DEFAULT_CLIENT_AUDIENCE,
      subject: 'user-1:desk-1:sess-1',
      expiresInSeconds: 120,
      refreshAfterSeconds: 90,
      streams: ['ct:a'],
    });
    expect(decodeProtectedHeader(res.token)).toMatchObject({ alg: 'ES256', kid: res.keyId });
    const c = await clientWith(res.token);
    expect(seen(c)).toEqual(['ct:a']);
    // Reducers read the same claims: the token's stream may be acked, another may not.
    await c.conn.reducers.ackCheckpoint({ clientId: 'desk-1', streamId: 'ct:a', ackedSeq: 1n, epoch: 1n });
    expect(
      await rejection(
        c.conn.reducers.ackCheckpoint({ clientId: 'desk-1', streamId: 'ct:b', ackedSeq: 1n, epoch: 1n }),
      ),
    ).toMatch(/^unauthorized: no read grant for stream 'ct:b'/);
  });

  it('a minted token carries the client role: it asks the service for its own device’s lane, not another’s, and nothing else', async () => {
    const res = await mint({ userId: 'user-2', deviceId: 'desk-2', sessionId: 'sess-route' });
    const admin = createClient(
      AdminService,
      createConnectTransport({
        baseUrl: service.httpUrl,
        httpVersion: '1.1',
        interceptors: [
          (next) => (req) => {
            req.header.set('authorization', `Bearer ${res.token}`);
            return next(req);
          },
        ],
      }),
    );
    expect((await admin.routeClient({ clientId: 'desk-2' })).lane).toBe(CutoverLane.LEGACY);
    expect(await refusal(admin.routeClient({ clientId: 'desk-1' }))).toMatchObject({
      code: 'PermissionDenied',
      reason: ErrorReason.UNAUTHORIZED,
      resource: 'desk-1',
    });
    // The client role is for RouteClient only.
    expect(await refusal(admin.getStatus({}))).toMatchObject({
      code: 'PermissionDenied',
      reason: ErrorReason.UNAUTHORIZED,
    });
    // SpacetimeDB still accepts the same token (its roles claim is one it does not read).
    expect(await connectOutcome(res.token)).toBe('connected');
  });

  it('publishes the issuer’s discovery document and public keys to anyone', async () => {
    const discovery = await fetch(`${service.httpUrl}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const doc = (await discovery.json()) as { issuer: string; jwks_uri: string };
    expect(doc).toMatchObject({
      issuer: service.httpUrl,
      jwks_uri: `${service.httpUrl}/.well-known/jwks.json`,
    });
    const jwks = (await (await fetch(doc.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    // Public members only.
    expect(Object.keys(jwks.keys[0] as object)).not.toContain('d');
    const res = await mint({});
    const { payload } = await jwtVerify(res.token, createRemoteJWKSet(new URL(doc.jwks_uri)), {
      issuer: doc.issuer,
      audience: DEFAULT_CLIENT_AUDIENCE,
    });
    expect(payload).toMatchObject({ sid: 'sess-1', uid: 'user-1', did: 'desk-1', streams: ['ct:a'] });
    expect(payload.exp).toBe((payload.iat as number) + 300);
    expect((await fetch(`${service.httpUrl}/.well-known/other`)).status).toBe(404);
  });

  it('a caller whose own streams claim bounds it mints only inside it', async () => {
    const bounded = { ...CONTROL, streams: ['ct:'] };
    expect((await mint({ streams: ['ct:a', 'ct:b'] }, bounded)).streams).toEqual(['ct:a', 'ct:b']);
    expect(await refusal(mint({ streams: ['ct:a', 'other:c'] }, bounded))).toMatchObject({
      code: 'PermissionDenied',
      reason: ErrorReason.UNAUTHORIZED,
      resource: 'other:c',
    });
  });

  it('refuses out-of-range lifetimes, too many or malformed streams and ambiguous ids, naming the field', async () => {
    const cases: [Req, string][] = [
      [{ ttlSeconds: 30 }, 'ttl_seconds'],
      [{ ttlSeconds: 901 }, 'ttl_seconds'],
      [{ streams: Array.from({ length: 65 }, (_, i) => `ct:${i}`) }, 'streams'],
      [{ streams: [] }, 'streams'],
      [{ streams: ['x'.repeat(257)] }, 'streams[0]'],
      [{ userId: 'user:1' }, 'user_id'],
      [{ sessionId: '' }, 'session_id'],
      [{ deviceId: 'd'.repeat(41) }, 'device_id'],
    ];
    for (const [req, field] of cases)
      expect(await refusal(mint(req))).toMatchObject({
        code: 'InvalidArgument',
        reason: ErrorReason.INVALID,
        fields: [field],
      });
  });

  it('revokes a session over Connect: its live client loses its rows and the token cannot reconnect', async () => {
    const res = await mint({ sessionId: 'sess-revoke' });
    const c = await clientWith(res.token);
    expect(seen(c)).toEqual(['ct:a']);
    const tokens = createClient(TokenService, authedTransport(service.httpUrl, CONTROL));
    await tokens.revokeClientSession({ sessionId: 'sess-revoke' });
    await expect.poll(() => seen(c), { timeout: 10_000 }).toEqual([]);
    expect(
      await rejection(
        c.conn.reducers.ackCheckpoint({ clientId: 'desk-1', streamId: 'ct:a', ackedSeq: 1n, epoch: 1n }),
      ),
    ).toMatch(/^unauthorized: session 'sess-revoke' was revoked/);
    // client_connected refuses the session's token: the socket closes before InitialConnection.
    expect(await connectOutcome(res.token)).toBe('refused');
    expect(await refusal(tokens.revokeClientSession({ sessionId: 'a:b' }))).toMatchObject({
      code: 'InvalidArgument',
      reason: ErrorReason.INVALID,
      fields: ['session_id'],
    });
  });

  it('refuses callers without the role, and anonymous ones', async () => {
    for (const roles of [['publisher'], ['operator']] as const)
      expect(await refusal(mint({}, { roles: [...roles], streams: ['ct:'] }))).toMatchObject({
        code: 'PermissionDenied',
        reason: ErrorReason.UNAUTHORIZED,
      });
    const res = await fetch(`${service.httpUrl}/spacetime_sync.v1.TokenService/MintClientToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
  });
});
