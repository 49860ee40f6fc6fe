/**
 * Short-lived scoped client tokens end to end on devhost (issue 14): an OIDC issuer (openid-configuration
 * + JWKS with two active keys) signs a token naming (user, device, session) and streams; devhost
 * validates it as SpacetimeDB validates third-party tokens; the module turns its streams into grant
 * rows for the connection, removes them on disconnect, and revocation takes effect on the live session.
 */
import { type Devhost, startDevhost } from '@spacetime-sync/devhost';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { SyncClient } from '../../client/sync-client.js';
import { DbConnection } from '../../module/bindings/index.js';
import {
  type Connected,
  connect,
  rejection,
  SYNC_DB,
  SYNC_MODULE,
  subscribe,
} from '../support/devhost-harness.js';
import {
  CLIENT_AUDIENCE,
  type KeyLike,
  scopes,
  startIssuer,
  type TestIssuer,
} from '../support/oidc-issuer.js';
import { eventInput } from '../support/sync-events.js';

const AUDIENCE = CLIENT_AUDIENCE;

let devhost: Devhost;
let owner: Connected;
let issuer: TestIssuer;
let other: TestIssuer;
const opened: Connected[] = [];

async function open(token: string): Promise<Connected> {
  const c = await connect(devhost, token);
  opened.push(c);
  return c;
}

/** Whether a connection with `token` is accepted (InitialConnection) or refused (closed first). */
function outcome(token: string): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    DbConnection.builder()
      .withUri(devhost.url)
      .withDatabaseName(SYNC_DB)
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

const seen = (c: Connected) =>
  [...c.conn.db.syncEvent.iter()].map((e) => `${e.streamId}/${e.idempotencyKey}`).sort();

beforeAll(async () => {
  issuer = await startIssuer(['k1', 'k2']);
  other = await startIssuer(['k1']);
  devhost = await startDevhost({
    databases: [{ name: SYNC_DB, moduleEntry: SYNC_MODULE }],
    trustedIssuers: [issuer.url, other.url],
  });
  owner = await connect(devhost, devhost.ownerToken);
  await owner.conn.reducers.appendSyncEvents({
    events: [eventInput('tok:a', 'a1'), eventInput('tok:b', 'b1')],
    cursor: undefined,
  });
  await owner.conn.reducers.trustTokenIssuer({ issuer: issuer.url, audience: AUDIENCE });
  await subscribe(owner.conn, ['SELECT * FROM token_session']);
}, 60_000);

afterAll(async () => {
  for (const c of [...opened, owner]) c?.conn.disconnect();
  await devhost?.stop();
  await issuer?.close();
  await other?.close();
});

describe('scoped client tokens', () => {
  it('grant a connection exactly its token’s streams, with either of the issuer’s two keys', async () => {
    for (const kid of ['k1', 'k2']) {
      const c = await open(await issuer.sign(kid, scopes(`sess-${kid}`, ['tok:a'])));
      await subscribe(c.conn, ['SELECT * FROM sync_event', 'SELECT * FROM sync_stream']);
      expect(seen(c)).toEqual(['tok:a/a1']);
      expect(c.conn.db.syncStream.stream_id.find('tok:b')).toBeNull();
      // Reducers read the caller's claims: it may ack the stream its token names, not another.
      await c.conn.reducers.ackCheckpoint({ clientId: 'desk-1', streamId: 'tok:a', ackedSeq: 1n, epoch: 1n });
      expect(
        await rejection(
          c.conn.reducers.ackCheckpoint({ clientId: 'desk-1', streamId: 'tok:b', ackedSeq: 1n, epoch: 1n }),
        ),
      ).toMatch(/^unauthorized: no read grant for stream 'tok:b'/);
    }
  });

  it('grant nothing when another issuer signed them, even one devhost accepts', async () => {
    const c = await open(await other.sign('k1', scopes('sess-other', ['tok:a'])));
    await subscribe(c.conn, ['SELECT * FROM sync_event']);
    expect(seen(c)).toEqual([]);
  });

  it('are refused at connect when forged, expired or of an unknown key', async () => {
    const forger = await startIssuer(['k1']);
    const forged = await issuer.sign('k1', scopes('sess-f', ['tok:b']), {
      key: (await generateKeyPair('ES256')).privateKey as KeyLike,
    });
    const expired = await issuer.sign('k1', scopes('sess-e', ['tok:b']), {
      expiresIn: Math.floor(Date.now() / 1000) - 3600,
    });
    const untrusted = await forger.sign('k1', scopes('sess-u', ['tok:b']));
    for (const [token, why] of [
      [forged, /InvalidSignature/],
      [expired, /ExpiredSignature/],
      [untrusted, /is not trusted here/],
    ] as const) {
      // The SDK reports the refusal; the HTTP answer it got says why.
      expect(await rejection(connect(devhost, token))).toMatch(/Failed to verify token/);
      const res = await fetch(`${devhost.url}/v1/identity/websocket-token`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect([res.status, await res.text()]).toEqual([401, expect.stringMatching(why)]);
    }
    await forger.close();
  });

  it('lose their grants when the connection closes', async () => {
    const c = await open(await issuer.sign('k1', scopes('sess-close', ['tok:a'])));
    await expect
      .poll(() => [...owner.conn.db.tokenSession.iter()].some((s) => s.sessionId === 'sess-close'))
      .toBe(true);
    c.conn.disconnect();
    await expect
      .poll(() => [...owner.conn.db.tokenSession.iter()].some((s) => s.sessionId === 'sess-close'), {
        timeout: 20_000,
      })
      .toBe(false);
  });

  it('revoked: the live session gets no further rows, its calls are refused, it sees why, and cannot reconnect', async () => {
    const token = await issuer.sign('k2', scopes('sess-rev', ['tok:a']));
    const c = await open(token);
    await subscribe(c.conn, ['SELECT * FROM sync_event', 'SELECT * FROM token_session']);
    expect(seen(c)).toEqual(['tok:a/a1']);
    await owner.conn.reducers.revokeClientSession({ sessionId: 'sess-rev' });
    await expect.poll(() => seen(c)).toEqual([]);
    await owner.conn.reducers.appendSyncEvent({ event: eventInput('tok:a', 'a2') });
    expect([...c.conn.db.tokenSession.iter()].map((s) => [s.sessionId, s.revoked])).toEqual([
      ['sess-rev', true],
    ]);
    expect(
      await rejection(
        c.conn.reducers.ackCheckpoint({ clientId: 'd', streamId: 'tok:a', ackedSeq: 1n, epoch: 1n }),
      ),
    ).toMatch(/^unauthorized: session 'sess-rev' was revoked/);
    expect(seen(c)).toEqual([]);
    // client_connected refuses it: the socket closes before InitialConnection.
    expect(await outcome(token)).toBe('refused');
  });

  it('revoked: the client library closes itself with a clear error', async () => {
    const events: string[] = [];
    const client = await SyncClient.open(['tok:a'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await issuer.sign('k1', scopes('sess-lib', ['tok:a'])),
      clientId: 'desk-1',
      store: new MemoryCursorStore(),
      onEvent: (_stream, e) => {
        events.push(e.idempotencyKey);
      },
    });
    await expect.poll(() => events.length).toBeGreaterThan(0);
    await owner.conn.reducers.revokeClientSession({ sessionId: 'sess-lib' });
    const error = await client.whenClosed();
    expect(error?.code).toBe('unauthenticated');
    expect(error?.message).toMatch(/session 'sess-lib' was revoked; sign in again/);
  });
});
