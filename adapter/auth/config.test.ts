import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';

const fails = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return 'accepted';
};

describe('listener security settings', () => {
  it('on loopback: the local issuer in the state dir, the operations endpoints open', () => {
    const c = loadConfig({ SPACETIME_SYNC_STATE_DIR: '/state' });
    expect(c.auth).toEqual({
      audience: 'spacetime-sync',
      clockSkewS: 30,
      issuers: [],
      localIssuerKeyFile: '/state/local-issuer.pem',
      openOps: new Set(['metrics', 'healthz', 'readyz']),
      failureLimits: { burst: 20, windowMs: 60_000, maxPeers: 10_000 },
    });
    expect(loadConfig({ AUTH_FAILURE_BURST: '5', AUTH_FAILURE_WINDOW_S: '300' }).auth.failureLimits).toEqual({
      burst: 5,
      windowMs: 300_000,
      maxPeers: 10_000,
    });
    expect(loadConfig({ AUTH_FAILURE_BURST: '0' }).auth.failureLimits).toBeUndefined();
    expect(() => loadConfig({ AUTH_FAILURE_WINDOW_S: '0' })).toThrow(/AUTH_FAILURE_WINDOW_S/);
    expect(loadConfig({ AUTH_LOCAL_ISSUER: '0', OPS_OPEN: 'healthz' }).auth).toMatchObject({
      openOps: new Set(['healthz']),
    });
    expect(loadConfig({ AUTH_LOCAL_ISSUER: '0' }).auth.localIssuerKeyFile).toBeUndefined();
  });

  it('reads numbered issuers, each with a JWKS URL or public-key files', () => {
    const c = loadConfig({
      AUTH_ISSUER_1: 'https://idp.example',
      AUTH_ISSUER_1_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      AUTH_ISSUER_2: 'control-plane',
      AUTH_ISSUER_2_KEY_FILES: '/keys/a.pem, /keys/b.pem',
      AUTH_AUDIENCE: 'sync-prod',
      AUTH_CLOCK_SKEW_S: '5',
    });
    expect(c.auth.issuers).toEqual([
      { issuer: 'https://idp.example', jwksUrl: 'https://idp.example/.well-known/jwks.json' },
      { issuer: 'control-plane', keyFiles: ['/keys/a.pem', '/keys/b.pem'] },
    ]);
    expect([c.auth.audience, c.auth.clockSkewS]).toEqual(['sync-prod', 5]);
  });

  it('refuses unsafe or incomplete settings, naming the variable', () => {
    expect(fails({ AUTH_ISSUER_1: 'x' })).toMatch(/^AUTH_ISSUER_1: needs AUTH_ISSUER_1_JWKS_URL or/);
    expect(fails({ AUTH_ISSUER_1_KEY_FILES: '/k.pem' })).toMatch(/^AUTH_ISSUER_1: required when/);
    expect(fails({ AUTH_ISSUER_1: 'x', AUTH_ISSUER_1_JWKS_URL: 'http://idp.example/jwks' })).toMatch(
      /^AUTH_ISSUER_1_JWKS_URL: .* must be https/,
    );
    expect(fails({ AUTH_CLOCK_SKEW_S: '3600' })).toMatch(/^AUTH_CLOCK_SKEW_S: .* from 0 to 300/);
    expect(fails({ OPS_OPEN: 'debug' })).toMatch(/^OPS_OPEN: 'debug' is not one of/);
    expect(fails({ INGEST_TLS_CERT_FILE: '/c.pem' })).toMatch(/^INGEST_TLS_KEY_FILE: required/);
  });

  it('off loopback: an issuer and TLS (or an explicit plaintext opt-in) are required, the operations endpoints closed', () => {
    expect(fails({ INGEST_HOST: '0.0.0.0' })).toMatch(
      /^AUTH_ISSUER_1: INGEST_HOST=0\.0\.0\.0 is not loopback/,
    );
    const issuer = { INGEST_HOST: '10.0.0.5', AUTH_ISSUER_1: 'idp', AUTH_ISSUER_1_KEY_FILES: '/k.pem' };
    expect(fails(issuer)).toMatch(/^INGEST_TLS_CERT_FILE: .*in clear/);
    const tls = { ...issuer, INGEST_TLS_CERT_FILE: '/c.pem', INGEST_TLS_KEY_FILE: '/k.pem' };
    const c = loadConfig(tls);
    expect(c.ingest.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
    expect(c.auth.openOps).toEqual(new Set());
    expect(c.auth.localIssuerKeyFile).toBeUndefined();
    expect(
      loadConfig({ ...issuer, INGEST_ALLOW_PLAINTEXT: '1', OPS_OPEN: 'healthz,readyz' }).auth.openOps,
    ).toEqual(new Set(['healthz', 'readyz']));
    expect(loadConfig({ INGEST_HOST: '::1' }).auth.localIssuerKeyFile).toBeDefined();
  });
});
