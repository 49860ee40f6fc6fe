/**
 * Rotating the service's client-token issuer key with two active keys (issue 14), through the
 * operator's command against a running service: a token minted before the rotation keeps working
 * after it (both keys are in the JWKS), new tokens carry the new key id, retiring the previous key
 * too early is refused, and once retired its tokens are refused by SpacetimeDB (embedded devhost,
 * through the JWKS) with the token-verification error. A session connected before the retirement
 * is handled as README "Security" documents: it keeps its grants until it disconnects (SpacetimeDB
 * checks a token when a connection opens), and cannot reconnect with that token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { DEFAULT_CLIENT_AUDIENCE } from '../../adapter/tokens/config.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { TokenService } from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import { authedTransport } from '../support/auth.js';
import { cliEnv, runCli } from '../support/cli.js';
import { type Connected, connect, rejection, subscribe } from '../support/devhost-harness.js';
import { syncEnvelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

const keysFile = join(mkdtempSync(join(tmpdir(), 'rotation-')), 'client-token-keys.json');
let service: RunningService;
const opened: Connected[] = [];
let seq = 0n;

beforeAll(async () => {
  service = await startTestService({
    // A short JWKS cache, so the retirement reaches devhost within the test (the default is 60 s).
    spacetime: { kind: 'embedded', port: 0, oidcKeyCacheMs: 500 },
    clientTokens: { keysFile, audience: DEFAULT_CLIENT_AUDIENCE },
  });
  await publish('r1');
}, 120_000);

afterAll(async () => {
  for (const c of opened) c.conn.disconnect();
  await service?.stop();
});

function publish(key: string) {
  seq += 1n;
  return createClient(IngestService, authedTransport(service.httpUrl)).publish({
    envelopes: [syncEnvelope('rot:a', key, '{}', seq)],
  });
}

const mint = (sessionId: string) =>
  createClient(TokenService, authedTransport(service.httpUrl, { roles: ['token_issuer'] })).mintClientToken({
    userId: 'u',
    deviceId: 'd',
    sessionId,
    streams: ['rot:a'],
  });

async function client(token: string): Promise<Connected> {
  const c = await connect({ url: service.spacetimeUrl }, token, service.database);
  opened.push(c);
  await subscribe(c.conn, ['SELECT * FROM sync_event']);
  return c;
}

const keys = (c: Connected) => [...c.conn.db.syncEvent.iter()].map((e) => e.idempotencyKey).sort();

async function jwksKids(): Promise<string[]> {
  const res = await fetch(`${service.httpUrl}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

/** What SpacetimeDB answers when asked to verify `token` (as a connecting client's SDK does). */
async function verdict(token: string): Promise<string> {
  const res = await fetch(`${service.spacetimeUrl}/v1/identity/websocket-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return `${res.status} ${await res.text()}`;
}

const cli = (...args: string[]) =>
  runCli(['token-keys', ...args, '--keys-file', keysFile, '--json'], { env: cliEnv() });

describe('client-token issuer key rotation', () => {
  it('keeps tokens of the previous key working, then refuses them once it is retired', async () => {
    const before = await mint('sess-before');
    const old = before.keyId;
    const live = await client(before.token);
    expect(keys(live)).toEqual(['r1']);

    const rotated = await cli('rotate');
    expect(rotated.code).toBe(0);
    const set = JSON.parse(rotated.out) as { current: { kid: string }; previous?: { kid: string } };
    expect(set.previous?.kid).toBe(old);
    expect(set.current.kid).not.toBe(old);
    // The running service signs with the new key and publishes both, without a restart.
    const after = await mint('sess-after');
    expect(after.keyId).toBe(set.current.kid);
    expect((await jwksKids()).sort()).toEqual([old, set.current.kid].sort());
    // SpacetimeDB fetches the key set again for the unknown key id (at most once per cooldown).
    await expect.poll(() => verdict(after.token), { timeout: 30_000, interval: 250 }).toMatch(/^200 /);
    // A token minted before the rotation still connects, as does one minted after it.
    expect(await verdict(before.token)).toMatch(/^200 /);
    expect(keys(await client(before.token))).toEqual(['r1']);
    expect(keys(await client(after.token))).toEqual(['r1']);

    // Retiring while the previous key's tokens may still be valid needs --now.
    const early = await cli('retire');
    expect([early.code, early.err]).toEqual([1, expect.stringMatching(/may be valid until .* --now/)]);
    expect((await jwksKids()).sort()).toEqual([old, set.current.kid].sort());
    const retired = await cli('retire', '--now');
    expect(retired.code).toBe(0);
    expect(JSON.parse(retired.out)).toMatchObject({ current: { kid: set.current.kid }, retired: old });
    expect(await jwksKids()).toEqual([set.current.kid]);

    // SpacetimeDB refuses the old key's token once it fetched the key set again.
    await expect
      .poll(() => verdict(before.token), { timeout: 30_000, interval: 250 })
      .toMatch(/^401 .*Specified key ID not found/);
    expect(await rejection(connect({ url: service.spacetimeUrl }, before.token, service.database))).toMatch(
      /Failed to verify token/,
    );
    expect(await verdict(after.token)).toMatch(/^200 /);
    // The session opened before the retirement keeps its grants until it disconnects (documented).
    await publish('r2');
    await expect.poll(() => keys(live), { timeout: 10_000 }).toEqual(['r1', 'r2']);
  }, 120_000);

  it('answers list, and refuses a retirement with no previous key and a missing key set', async () => {
    const listed = await cli('list');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).not.toHaveProperty('previous');
    const nothing = await cli('retire', '--now');
    expect([nothing.code, nothing.err]).toEqual([1, expect.stringMatching(/no previous key to retire/)]);
    const missing = await runCli(['token-keys', 'list', '--keys-file', join(tmpdir(), 'nope', 'k.json')], {
      env: cliEnv(),
    });
    expect([missing.code, missing.err]).toEqual([2, expect.stringMatching(/no key set at/)]);
  }, 60_000);
});
