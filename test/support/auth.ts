/**
 * Test-only credentials: each test file's services accept tokens of a local issuer whose key lives
 * in a temporary directory (as `npm start`'s does in the state dir), and these helpers mint them —
 * for Connect clients (`authedTransport`), raw `fetch` (`bearer`) and the CLI (`tokenFileEnv`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { AuthConfig } from '../../adapter/auth/config.js';
import {
  DEFAULT_AUDIENCE,
  ensureLocalIssuerKey,
  mintLocalToken,
  type TokenClaims,
} from '../../adapter/auth/local-issuer.js';

const dir = mkdtempSync(join(tmpdir(), 'test-issuer-'));
export const TEST_ISSUER_KEY_FILE = join(dir, 'local-issuer.pem');

/** The auth settings of a service on loopback with the test issuer; the operations endpoints open. */
export const testAuthConfig: AuthConfig = {
  audience: DEFAULT_AUDIENCE,
  clockSkewS: 30,
  issuers: [],
  localIssuerKeyFile: TEST_ISSUER_KEY_FILE,
  openOps: new Set(['metrics', 'healthz', 'readyz']),
  // Every test client is the one peer 127.0.0.1: tests that refuse many tokens on purpose must not
  // be throttled by each other (test/service/auth-throttle.test.ts sets a small burst).
  failureLimits: { burst: 1_000_000, windowMs: 60_000, maxPeers: 10_000 },
};

export type Claims = Partial<TokenClaims>;

/** A token of the test issuer; by default an admin's, valid for an hour. */
export function testToken(claims: Claims = {}): Promise<string> {
  return mintLocalToken(ensureLocalIssuerKey(TEST_ISSUER_KEY_FILE), {
    roles: ['admin'],
    ttlS: 3600,
    ...claims,
  });
}

export const bearer = async (claims?: Claims) => ({ authorization: `Bearer ${await testToken(claims)}` });

/** Adds a fresh token (these claims) to every call. */
export const withToken =
  (claims?: Claims): Interceptor =>
  (next) =>
  async (req) => {
    req.header.set('authorization', `Bearer ${await testToken(claims)}`);
    return next(req);
  };

export const authedTransport = (baseUrl: string, claims?: Claims) =>
  createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors: [withToken(claims)] });

/** CLI environment naming a file with a token of these claims (as an operator would set it). */
export async function tokenFileEnv(claims?: Claims): Promise<{ SPACETIME_SYNC_TOKEN_FILE: string }> {
  const file = join(mkdtempSync(join(dir, 'token-')), 'token');
  writeFileSync(file, await testToken(claims), { mode: 0o600 });
  return { SPACETIME_SYNC_TOKEN_FILE: file };
}
