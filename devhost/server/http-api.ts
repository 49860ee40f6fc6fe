/**
 * The HTTP identity API of SpacetimeDB (`client-api/src/routes/identity.rs`) that clients and the CLI
 * use; the TS SDK itself only calls `POST /v1/identity/websocket-token` before upgrading.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, type TokenVerifier } from './credentials.js';
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

async function requireAuth(verify: TokenVerifier, req: IncomingMessage, url: URL) {
  const auth = await authenticate(verify, req, url);
  if (!auth) throw new AuthError('required', 'Authorization required');
  return auth;
}

type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  params: readonly string[],
) => void | Promise<void>;

export function identityRoutes(
  authority: TokenAuthority,
  verify: TokenVerifier,
): ReadonlyArray<{
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
      handle: async (req, res, url) => {
        // A third-party token is re-signed with this server's key, its claims kept (`re_sign_with_expiry`).
        const { claims } = await requireAuth(verify, req, url);
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
      handle: async (req, res, url, [hex]) => {
        const identity = identityFromHex(hex ?? '');
        if (identity === undefined) return sendText(res, 400, 'Invalid identity');
        const { claims } = await requireAuth(verify, req, url);
        res.writeHead(claims.identity === identity ? 204 : 400).end();
      },
    },
  ];
}
