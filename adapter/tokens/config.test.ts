import { describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_AUDIENCE, loadClientTokenConfig } from './config.js';

const fail = (variable: string, message: string) => new Error(`${variable}: ${message}`);
const load = (env: Record<string, string>) => loadClientTokenConfig(env, fail);

describe('client-token issuer settings', () => {
  it('defaults: the key set in the state dir, the listener as issuer, the module audience', () => {
    expect(load({ SPACETIME_SYNC_STATE_DIR: '/state' })).toEqual({
      keysFile: '/state/client-token-keys.json',
      audience: DEFAULT_CLIENT_AUDIENCE,
    });
  });

  it('takes an issuer URL (without a trailing slash), a key file and an audience', () => {
    expect(
      load({
        CLIENT_TOKEN_ISSUER: 'https://sync.example.com/',
        CLIENT_TOKEN_KEYS_FILE: '/keys/set.json',
        CLIENT_TOKEN_AUDIENCE: 'desktop',
      }),
    ).toEqual({ issuer: 'https://sync.example.com', keysFile: '/keys/set.json', audience: 'desktop' });
  });

  it('refuses an issuer SpacetimeDB could not look up, naming the variable', () => {
    expect(() => load({ CLIENT_TOKEN_ISSUER: 'sync.example.com' })).toThrow(
      /^CLIENT_TOKEN_ISSUER: .* not a URL/,
    );
    expect(() => load({ CLIENT_TOKEN_ISSUER: 'ftp://sync.example.com' })).toThrow(/http\(s\) URL/);
    expect(() => load({ CLIENT_TOKEN_ISSUER: `https://${'x'.repeat(130)}.example` })).toThrow(
      /128 characters/,
    );
  });
});
