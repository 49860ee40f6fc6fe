/**
 * A token expiring mid-stream (issue 17's drill, as the legacy lane's "expired-then-fresh token"):
 * desktop clients hold short-lived scoped OIDC tokens. SpacetimeDB checks a token when a connection
 * opens, so a stream goes on past its token's expiry; the next connection needs a fresh one. A
 * client given a token provider asks it before every attempt and resumes from its cursor without
 * loss or repeat; a client holding the same expired token fixed is refused on its reconnect and
 * closes, saying why (the control: the drill does exercise an expired token).
 */
import { type Devhost, startDevhost } from '@spacetime-sync/devhost';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../chaos/net/tcp-proxy.js';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { type StateInfo, SyncClient } from '../../client/sync-client.js';
import { type Connected, connect, SYNC_DB, SYNC_MODULE } from '../support/devhost-harness.js';
import { CLIENT_AUDIENCE, scopes, startIssuer, type TestIssuer } from '../support/oidc-issuer.js';
import { eventInput } from '../support/sync-events.js';

const STREAM = 'expiry:1';
/** Token lifetime: long enough to connect and replay on a loaded machine, short for the drill. */
const LIFETIME_S = 8;
/**
 * The host accepts a token up to 60 s past its `exp` (SpacetimeDB's, and devhost's, leeway). Tokens
 * here are minted with `exp` that far in the past already, so they stop being accepted LIFETIME_S
 * after minting instead of a minute later.
 */
const LEEWAY_S = 60;

let devhost: Devhost;
let owner: Connected;
let issuer: TestIssuer;
let proxy: TcpProxy;
let appended = 0;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  issuer = await startIssuer(['k1']);
  devhost = await startDevhost({
    databases: [{ name: SYNC_DB, moduleEntry: SYNC_MODULE }],
    trustedIssuers: [issuer.url],
  });
  owner = await connect(devhost, devhost.ownerToken);
  await owner.conn.reducers.trustTokenIssuer({ issuer: issuer.url, audience: CLIENT_AUDIENCE });
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: devhost.port });
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  owner?.conn.disconnect();
  await proxy?.stop();
  await devhost?.stop();
  await issuer?.close();
});

async function append(n: number): Promise<void> {
  const events = Array.from({ length: n }, () => eventInput(STREAM, `e${++appended}`));
  await owner.conn.reducers.appendSyncEvents({ events, cursor: undefined });
}

/** A short-lived token for one session of this device, scoped to the stream; its expiry (epoch s). */
async function mint(sid: string): Promise<{ token: string; exp: number }> {
  const exp = Math.floor(Date.now() / 1000) + LIFETIME_S - LEEWAY_S;
  return { token: await issuer.sign('k1', scopes(sid, [STREAM]), { expiresIn: exp }), exp };
}

function openClient(id: string, token: string | (() => Promise<string>)) {
  const seqs: bigint[] = [];
  let closedWith: StateInfo['error'];
  const client = SyncClient.open([STREAM], {
    uri: proxy.url,
    database: SYNC_DB,
    token,
    clientId: id,
    store: new MemoryCursorStore(),
    backoff: { baseMs: 100, capMs: 1_000 },
    onEvent: (_s, e) => {
      seqs.push(e.seq);
    },
    onState: (state, _detail, info) => {
      if (state === 'closed') closedWith = info?.error;
    },
  });
  return { client, seqs, closed: () => closedWith };
}

describe('a token expiring mid-stream', () => {
  it('a client with a token provider resumes on a fresh token without loss or repeat; one with the expired token fixed is refused', async () => {
    await append(20);
    const minted: { exp: number }[] = [];
    const withProvider = openClient('desk-provider', async () => {
      const t = await mint(`sess-${minted.length + 1}`);
      minted.push(t);
      return t.token;
    });
    const first = await mint('sess-fixed');
    const fixed = openClient('desk-fixed', first.token);
    const a = await withProvider.client;
    const b = await fixed.client;
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    await a.waitLive(60_000);
    await b.waitLive(60_000);

    // Both tokens expire while streaming: the open connections carry on.
    const refusedFrom = Math.max(first.exp, minted[0]?.exp ?? 0) + LEEWAY_S;
    await append(10);
    await expect
      .poll(() => Date.now() / 1000 > refusedFrom + 1, { timeout: (LIFETIME_S + 30) * 1000, interval: 250 })
      .toBe(true);
    await append(10);
    await expect.poll(() => withProvider.seqs.length, { timeout: 30_000 }).toBe(40);
    await expect.poll(() => fixed.seqs.length, { timeout: 30_000 }).toBe(40);

    // The connections drop; events keep coming while the clients are away.
    proxy.set('reset');
    await append(15);
    proxy.set('pass');
    await append(5);

    // The provider's client asked for a fresh token and resumed from its cursor: every event once, in order.
    await expect.poll(() => withProvider.seqs.length, { timeout: 60_000 }).toBe(60);
    expect(withProvider.seqs).toEqual(Array.from({ length: 60 }, (_, i) => BigInt(i + 1)));
    expect(minted.length).toBeGreaterThanOrEqual(2);
    // The fixed, expired token is refused on reconnect and the client closes as unauthenticated.
    await expect.poll(() => fixed.closed()?.code, { timeout: 60_000 }).toBe('unauthenticated');
    expect(fixed.seqs).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)));
  }, 180_000);
});
