/**
 * The HTTP identity API of SpacetimeDB (`client-api/src/routes/identity.rs`) that clients and the CLI
 * use; the TS SDK itself only calls `POST /v1/identity/websocket-token` before upgrading.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './credentials.js';
import { identityFromHex, identityToHex } from './identity.js';
import { AuthError, type TokenAuthority } from './tokens.js';

/** `create_websocket_token`: the re-signed credential lives 60 s. */
export const WEBSOCKET_TOKEN_TTL_SECONDS = 60;

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
) {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, body: object): void {
  sendText(res, 200, JSON.stringify(body), 'application/json');
}

function requireAuth(authority: TokenAuthority, req: IncomingMessage, url: URL) {
  const auth = authenticate(authority, req, url);
  if (!auth) throw new AuthError('required', 'Authorization required');
  return auth;
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL, params: readonly string[]) => void;

export function identityRoutes(authority: TokenAuthority): ReadonlyArray<{
  readonly method: string;
  readonly path: RegExp;
  readonly handle: Route;
}> {
  return [
    {
      method: 'POST',
      path: /^\/v1\/identity\/?$/,
      handle: (_req, res) => {
        const { claims, token } = authority.mintAnonymous();
        sendJson(res, { identity: identityToHex(claims.identity), token });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/identity\/websocket-token$/,
      handle: (req, res, url) => {
        const { claims } = requireAuth(authority, req, url);
        sendJson(res, { token: authority.resign(claims, WEBSOCKET_TOKEN_TTL_SECONDS).token });
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/identity\/public-key$/,
      handle: (_req, res) => sendText(res, 200, authority.publicKeyPem, 'application/pem-certificate-chain'),
    },
    {
      method: 'GET',
      path: /^\/v1\/identity\/([^/]+)\/verify$/,
      handle: (req, res, url, [hex]) => {
        const identity = identityFromHex(hex ?? '');
        if (identity === undefined) return sendText(res, 400, 'Invalid identity');
        const { claims } = requireAuth(authority, req, url);
        res.writeHead(claims.identity === identity ? 204 : 400).end();
      },
    },
  ];
}
