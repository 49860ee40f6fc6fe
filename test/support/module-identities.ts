/**
 * Test-only: the identities of the module's authorization matrices, each connected to the real sync
 * module on devhost — the SpacetimeDB-side counterpart of the Connect matrix's identities
 * (test/service/authorization-matrix.test.ts), the same kinds of refused tokens included (another
 * issuer, another audience, expired, forged). Readers come in both kinds the module knows: a scoped
 * client token of a trusted issuer (its streams become token grants) and a writer's grant. Tokens
 * that must not be accepted at all (expired, forged) cannot connect: `refusedTokens` makes them.
 */
import { type Devhost, startDevhost } from '@spacetime-sync/devhost';
import { generateKeyPair } from 'jose';
import { Identity } from 'spacetimedb';
import { type Connected, connect, SYNC_DB, SYNC_MODULE } from './devhost-harness.js';
import { CLIENT_AUDIENCE, type KeyLike, scopes, startIssuer, type TestIssuer } from './oidc-issuer.js';
import { eventInput } from './sync-events.js';

export const MODULE_IDENTITIES = [
  'anonymous',
  'token reader of m:a',
  'granted reader of m:b',
  'writer',
  'owner',
  'cutover admin',
  'bridge worker',
  'other issuer',
  'wrong audience',
  'revoked session',
] as const;
export type ModuleIdentity = (typeof MODULE_IDENTITIES)[number];

/** Seeded streams: m:a and m:b with one event each; the token reader's session id. */
export const SEEDED = { a: 'm:a', b: 'm:b', readerSession: 'sess-a', bridgeTarget: 'relay-x' } as const;

export interface ModuleWorld {
  readonly devhost: Devhost;
  readonly issuer: TestIssuer;
  readonly as: Record<ModuleIdentity, Connected>;
  /** Tokens refused at connect, with what devhost answers for each. */
  refusedTokens(): Promise<Record<'expired' | 'forged', { token: string; why: RegExp }>>;
  close(): Promise<void>;
}

export async function startModuleWorld(): Promise<ModuleWorld> {
  const issuer = await startIssuer(['k1']);
  // Devhost trusts this one (its tokens connect) but the module was never told to: no grants.
  const other = await startIssuer(['k1']);
  const devhost = await startDevhost({
    databases: [{ name: SYNC_DB, moduleEntry: SYNC_MODULE }],
    trustedIssuers: [issuer.url, other.url],
  });
  const opened: Connected[] = [];
  const open = async (token?: string) => {
    const c = await connect(devhost, token);
    opened.push(c);
    return c;
  };
  const owner = await open(devhost.ownerToken);
  const r = owner.conn.reducers;
  await r.appendSyncEvents({
    events: [eventInput(SEEDED.a, 'a1'), eventInput(SEEDED.b, 'b1')],
    cursor: undefined,
  });
  await r.trustTokenIssuer({ issuer: issuer.url, audience: CLIENT_AUDIENCE });
  const id = (c: Connected) => Identity.fromString(c.identityHex);
  const writer = await open();
  await r.grantWriter({ identity: id(writer), label: 'adapter' });
  const cutoverAdmin = await open();
  await r.grantCutoverAdmin({ identity: id(cutoverAdmin), label: 'ops' });
  const bridgeWorker = await open();
  await r.grantBridgeWorker({ identity: id(bridgeWorker), target: SEEDED.bridgeTarget });
  const grantedReader = await open();
  await r.grantStreamRead({ reader: id(grantedReader), streamId: SEEDED.b });
  const revoked = await open(await issuer.sign('k1', scopes('sess-revoked', [SEEDED.a])));
  await r.revokeClientSession({ sessionId: 'sess-revoked' });
  const as: Record<ModuleIdentity, Connected> = {
    anonymous: await open(),
    'token reader of m:a': await open(await issuer.sign('k1', scopes(SEEDED.readerSession, [SEEDED.a]))),
    'granted reader of m:b': grantedReader,
    writer,
    owner,
    'cutover admin': cutoverAdmin,
    'bridge worker': bridgeWorker,
    'other issuer': await open(await other.sign('k1', scopes('sess-other', [SEEDED.a]))),
    // The trusted issuer, but for another audience: devhost accepts it (SpacetimeDB checks no
    // audience), the module grants nothing.
    'wrong audience': await open(
      await issuer.sign('k1', scopes('sess-aud', [SEEDED.a]), { audience: 'another-service' }),
    ),
    'revoked session': revoked,
  };
  return {
    devhost,
    issuer,
    as,
    async refusedTokens() {
      const stranger = (await generateKeyPair('ES256')).privateKey as KeyLike;
      return {
        expired: {
          token: await issuer.sign('k1', scopes('sess-x', [SEEDED.a]), {
            expiresIn: Math.floor(Date.now() / 1000) - 3600,
          }),
          why: /ExpiredSignature/,
        },
        forged: {
          token: await issuer.sign('k1', scopes('sess-f', [SEEDED.a]), { key: stranger }),
          why: /InvalidSignature/,
        },
      };
    },
    async close() {
      for (const c of opened) c.conn.disconnect();
      await devhost.stop();
      await issuer.close();
      await other.close();
    },
  };
}
