/**
 * The issuer's public face, as any OIDC provider serves it and as SpacetimeDB looks a third-party
 * issuer up: `/.well-known/openid-configuration` names the `jwks_uri`, which lists the public keys
 * (current and previous; never a private member). Both are open to anyone, like any issuer's.
 */
import type { IssuerKeySet } from './issuer-key-set.js';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/.well-known/jwks.json';

/** The JSON to answer `path` with, or undefined when it is not one of the issuer's documents. */
export async function discoveryDocument(
  path: string,
  issuer: string,
  keys: IssuerKeySet,
): Promise<object | undefined> {
  if (path === DISCOVERY_PATH)
    return {
      issuer,
      jwks_uri: `${issuer}${JWKS_PATH}`,
      id_token_signing_alg_values_supported: ['ES256'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'nbf',
        'jti',
        'sid',
        'uid',
        'did',
        'streams',
        'roles',
      ],
    };
  if (path === JWKS_PATH) return keys.jwks();
  return undefined;
}
