/**
 * The authenticator a configuration describes: every configured issuer's keys, plus the local
 * issuer's (its key created on first start). Unreadable key files stop the start with the file named.
 */
import { Authenticator } from './authenticator.js';
import type { AuthConfig } from './config.js';
import { type IssuerKeys, loadIssuerKeys } from './issuer-keys.js';
import { ensureLocalIssuerKey, LOCAL_ISSUER, localIssuerKeys } from './local-issuer.js';

export async function createAuthenticator(config: AuthConfig): Promise<Authenticator> {
  const issuers: IssuerKeys[] = [];
  for (const issuer of config.issuers) {
    if (config.localIssuerKeyFile && issuer.issuer === LOCAL_ISSUER)
      throw new Error(`issuer '${LOCAL_ISSUER}' is the local issuer's name; configure another`);
    issuers.push(await loadIssuerKeys(issuer));
  }
  if (config.localIssuerKeyFile)
    issuers.push(await localIssuerKeys(ensureLocalIssuerKey(config.localIssuerKeyFile)));
  return new Authenticator({ issuers, audience: config.audience, clockSkewS: config.clockSkewS });
}
