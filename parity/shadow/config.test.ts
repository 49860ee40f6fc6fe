import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../adapter/config.js';
import { shadowConfig } from './config.js';
import { sampled } from './shadow.js';

const fail = (variable: string, message: string) => new ConfigError(variable, message);
const on = {
  PARITY_SHADOW: '1',
  PARITY_LEGACY_URL: 'ws://127.0.0.1:4100/socket/websocket',
  LEGACY_LANE_TOKEN: 't',
};

describe('shadow mode settings', () => {
  it('is off unless PARITY_SHADOW=1', () => {
    expect(shadowConfig({}, fail)).toBeUndefined();
    expect(shadowConfig({ PARITY_SHADOW: '0' }, fail)).toBeUndefined();
    expect(shadowConfig(on, fail)).toMatchObject({
      sampleRate: 0.1,
      graceMs: 30_000,
      topics: expect.any(Array),
    });
  });

  it.each([
    [{ ...on, PARITY_LEGACY_URL: undefined }, 'PARITY_LEGACY_URL'],
    [{ ...on, PARITY_LEGACY_URL: 'http://x' }, 'PARITY_LEGACY_URL'],
    [{ ...on, PARITY_LEGACY_URL: `${on.PARITY_LEGACY_URL}?token=x` }, 'PARITY_LEGACY_URL'],
    [{ ...on, LEGACY_LANE_TOKEN: undefined }, 'LEGACY_LANE_TOKEN'],
    [{ ...on, PARITY_SHADOW_SAMPLE: '2' }, 'PARITY_SHADOW_SAMPLE'],
    [{ ...on, PARITY_SHADOW: 'yes' }, 'PARITY_SHADOW'],
  ])('refuses %o naming %s', (env, variable) => {
    expect(() => shadowConfig(env, fail)).toThrow(expect.objectContaining({ variable }));
  });

  it('reads the token file again on each connect', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'shadow-')), 'token');
    writeFileSync(file, 'one');
    const c = shadowConfig({ ...on, LEGACY_LANE_TOKEN: undefined, LEGACY_LANE_TOKEN_FILE: file }, fail);
    writeFileSync(file, 'two');
    expect(c?.legacyToken()).toBe('two');
  });

  it('samples streams by a hash of their id: stable, and close to the rate', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `stream:${i}`);
    const picked = ids.filter((s) => sampled(s, 0.1));
    expect(picked.length).toBeGreaterThan(140);
    expect(picked.length).toBeLessThan(260);
    expect(ids.filter((s) => sampled(s, 0.1))).toEqual(picked);
    expect(ids.every((s) => sampled(s, 1))).toBe(true);
  });
});
