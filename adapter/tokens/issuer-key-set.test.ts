import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeKeySet,
  IssuerKeySet,
  KeySetFileError,
  previousKeyTokensValidUntil,
  retirePreviousKey,
  rotateKeySet,
} from './issuer-key-set.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'key-set-')), 'keys.json');
const kids = async (s: IssuerKeySet) => (await s.jwks()).keys.map((k) => k.kid);

describe('the client-token issuer key set', () => {
  it('is created on first use as a 0600 file whose JWKS holds public keys only', async () => {
    const file = fresh();
    const set = new IssuerKeySet(file);
    const { current, previous } = await set.state();
    expect(previous).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { keys } = await set.jwks();
    expect(keys).toEqual([
      expect.objectContaining({ kid: current.kid, kty: 'EC', alg: 'ES256', use: 'sig' }),
    ]);
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('rotates to two active keys, at most two, and retires the previous one; a loaded set follows the file', async () => {
    const file = fresh();
    const set = new IssuerKeySet(file);
    const first = (await set.state()).current.kid;
    const once = await rotateKeySet(file);
    expect(once.previous?.kid).toBe(first);
    expect(once.retired).toBeUndefined();
    expect(await kids(set)).toEqual([once.current.kid, first]);
    expect((await set.state()).current.kid).toBe(once.current.kid);
    const twice = await rotateKeySet(file);
    expect([twice.previous?.kid, twice.retired]).toEqual([once.current.kid, first]);
    expect(await kids(set)).toEqual([twice.current.kid, once.current.kid]);
    const retired = await retirePreviousKey(file);
    expect([retired?.previous, retired?.retired]).toEqual([undefined, once.current.kid]);
    expect(await kids(set)).toEqual([twice.current.kid]);
    expect(await retirePreviousKey(file)).toBeUndefined();
  });

  it("dates how long the previous key's tokens may live, and names a damaged file", async () => {
    const file = fresh();
    await new IssuerKeySet(file).state();
    expect(previousKeyTokensValidUntil(describeKeySet(file), 900)).toBeUndefined();
    const s = await rotateKeySet(file);
    expect(previousKeyTokensValidUntil(s, 900)?.getTime()).toBe(Date.parse(s.current.createdAt) + 900_000);
    writeFileSync(file, '{"keys": []}');
    await expect(new IssuerKeySet(file).state()).rejects.toThrow(KeySetFileError);
    expect(() => describeKeySet(join(tmpdir(), 'none', 'k.json'))).toThrow(/ENOENT/);
  });
});
