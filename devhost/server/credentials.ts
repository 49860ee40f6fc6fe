/**
 * Where a request's credential comes from, as `SpacetimeCreds::from_request_parts`: an
 * `Authorization: Bearer` header first, else a `?token=` query parameter.
 */
import type { IncomingMessage } from 'node:http';
import { AuthError, type TokenAuthority, type VerifiedToken } from './tokens.js';

const BEARER = /^bearer +(\S+) *$/i;

export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    // A header that is present but not a bearer credential is a malformed request, not anonymity.
    if (!match) throw new AuthError('malformed-header', 'Authorization is invalid: malformed token');
    return match[1];
  }
  return url.searchParams.get('token') ?? undefined;
}

/** The verified credential of a request, or undefined when it carries none; throws {@link AuthError}. */
export function authenticate(
  authority: TokenAuthority,
  req: IncomingMessage,
  url: URL,
): VerifiedToken | undefined {
  const token = requestToken(req, url);
  return token === undefined ? undefined : authority.verify(token);
}
