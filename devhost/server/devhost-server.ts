/**
 * devhost's network side: SpacetimeDB's HTTP identity API and its websocket subscribe endpoint for
 * every database in a registry, on one HTTP server.
 */

import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { DatabaseRegistry, HostedDatabase } from '../contract.js';
import { DEFAULT_KEEPALIVE, type KeepaliveOptions, runClientConnection } from './client-connection.js';
import { requestToken, tokenVerifier } from './credentials.js';
import { DatabaseHub } from './database-hub.js';
import { identityRoutes, sendText } from './http-api.js';
import { identityToHex } from './identity.js';
import { ConnectionCounter, type DevhostLimits, resolveLimits } from './limits.js';
import { type DevhostLogger, silentLogger } from './logger.js';
import { OidcValidator } from './oidc.js';
import {
  offeredProtocols,
  parseSubscribeParams,
  SubscribeParamsError,
  selectProtocol,
} from './subscribe-params.js';
import { AuthError, TokenAuthority, type VerifiedToken } from './tokens.js';
import {
  DEFAULT_VERIFIED_TOKEN_CACHE,
  VerifiedTokenCache,
  type VerifiedTokenCacheOptions,
} from './verified-tokens.js';

export interface DevhostServerOptions {
  readonly databases: DatabaseRegistry;
  /** Interface to listen on; 127.0.0.1 unless given. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** ES256 (P-256) private key tokens are signed with; generated when absent (tokens then die with the server). */
  readonly signingKey?: KeyObject;
  readonly logger?: DevhostLogger;
  /** Websocket keepalive; SpacetimeDB's defaults (ping every 15 s, drop after 30 s of silence) unless given. */
  readonly keepalive?: Partial<KeepaliveOptions>;
  /**
   * Issuers (their `iss` exactly) whose OIDC tokens are accepted, their keys found through
   * `{iss}/.well-known/openid-configuration` (oidc.ts); none unless given.
   */
  readonly trustedIssuers?: readonly string[];
  /** How long an issuer's fetched key set is used before it is fetched again (oidc.ts); 5 min unless given. */
  readonly oidcKeyCacheMs?: number;
  /** What one client may cost (limits.ts); the defaults unless given. */
  readonly limits?: Partial<DevhostLimits>;
  /** Tokens verified before, reused while valid (verified-tokens.ts); a minute, 4,096 tokens unless given. */
  readonly verifiedTokens?: VerifiedTokenCacheOptions;
}

export interface DevhostServer {
  readonly port: number;
  /** `http://host:port`, what `DbConnection.builder().withUri()` takes. */
  readonly url: string;
  /** Accept tokens of one more OIDC issuer from now on (e.g. a service whose URL is known only once it listens). */
  trustIssuer(issuer: string): void;
  /** Closes every socket (their client_disconnected reducers run), then stops listening. */
  close(): Promise<void>;
}

/** SpacetimeDB's `max_message_size` for client frames. */
const MAX_CLIENT_MESSAGE = 0x2000000;
/** How long a closing socket may take to finish the close handshake (`close_handshake_timeout` order). */
const CLOSE_HANDSHAKE_MS = 250;
const SUBSCRIBE_PATH = /^\/v1\/database\/([^/]+)\/subscribe\/?$/;

function rejectUpgrade(socket: Duplex, status: number, body = ''): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** `generate_random_connection_id`: 16 random bytes; zero is reserved. */
function randomConnectionId(): bigint {
  for (;;) {
    const id = BigInt(`0x${randomBytes(16).toString('hex')}`);
    if (id !== 0n) return id;
  }
}

export async function startServer(options: DevhostServerOptions): Promise<DevhostServer> {
  const logger = options.logger ?? silentLogger;
  const authority = new TokenAuthority(options.signingKey);
  const keepalive: KeepaliveOptions = { ...DEFAULT_KEEPALIVE, ...options.keepalive };
  const limits = resolveLimits(options.limits);
  const open = new ConnectionCounter(limits);
  const trusted = new Set(options.trustedIssuers ?? []);
  const verify = tokenVerifier(
    authority,
    new OidcValidator(
      trusted,
      options.oidcKeyCacheMs === undefined ? {} : { cacheMaxAgeMs: options.oidcKeyCacheMs },
    ),
    new VerifiedTokenCache(options.verifiedTokens ?? DEFAULT_VERIFIED_TOKEN_CACHE),
  );
  const routes = identityRoutes(authority, verify);
  const hubs = new Map<HostedDatabase, DatabaseHub>();
  const connections = new Map<import('ws').WebSocket, Promise<void>>();
  /** Headers the anonymous-auth step adds to the 101 response (`anon_auth_middleware`). */
  const upgradeHeaders = new WeakMap<IncomingMessage, string[]>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE,
    handleProtocols: (offered) => selectProtocol(offered)?.protocol ?? false,
  });
  wss.on('headers', (headers, req) => headers.push(...(upgradeHeaders.get(req) ?? [])));

  const hubFor = (db: HostedDatabase): DatabaseHub => {
    let hub = hubs.get(db);
    if (!hub) {
      hub = new DatabaseHub(db, (error) =>
        logger.error(
          { db: db.name, err: error instanceof Error ? error.message : String(error) },
          'broadcast failed',
        ),
      );
      hubs.set(db, hub);
    }
    return hub;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://devhost');
    const matching = routes.filter((r) => r.path.test(url.pathname));
    const route = matching.find((r) => r.method === req.method);
    try {
      if (route) return await route.handle(req, res, url, (route.path.exec(url.pathname) ?? []).slice(1));
      if (matching.length > 0) return sendText(res, 405, '');
      // axum's WebSocketUpgrade rejection for a plain GET.
      if (SUBSCRIBE_PATH.test(url.pathname))
        return sendText(res, 400, "Connection header did not include 'upgrade'");
      sendText(res, 404, '');
    } catch (e) {
      if (e instanceof AuthError) return sendText(res, e.status, e.message);
      logger.error(
        { err: e instanceof Error ? e.message : String(e), path: url.pathname },
        'http handler failed',
      );
      sendText(res, 500, 'internal error');
    }
  });

  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without an error listener, and authentication may await an
    // issuer's keys: a client resetting meanwhile must not be an uncaught error that ends the host.
    // (Once upgraded, the websocket's own error handling takes over.)
    socket.on('error', (err) => logger.info({ err: err.message }, 'client socket failed during upgrade'));
    try {
      if (closing) return rejectUpgrade(socket, 503);
      const url = new URL(req.url ?? '/', 'http://devhost');
      const path = SUBSCRIBE_PATH.exec(url.pathname);
      if (!path) return rejectUpgrade(socket, 404);
      if (req.method !== 'GET') return rejectUpgrade(socket, 405);

      // Authentication comes first (a middleware in SpacetimeDB): a bad token is refused before anything else.
      let verified: VerifiedToken | undefined;
      let token: string;
      try {
        verified = undefined;
        const presented = requestToken(req, url);
        if (presented !== undefined) {
          verified = await verify(presented);
          token = presented;
          // Verifying may have fetched an issuer's keys: the socket or the server may be gone by now.
          if (closing || socket.destroyed) return rejectUpgrade(socket, 503);
        } else {
          const minted = authority.mintAnonymous();
          token = minted.token;
          verified = authority.verify(token);
        }
      } catch (e) {
        if (e instanceof AuthError) return rejectUpgrade(socket, e.status, e.message);
        throw e;
      }

      let params: ReturnType<typeof parseSubscribeParams>;
      try {
        params = parseSubscribeParams(url.searchParams);
      } catch (e) {
        if (e instanceof SubscribeParamsError) return rejectUpgrade(socket, 400, e.message);
        throw e;
      }
      const connectionId = params.connectionId ?? randomConnectionId();
      if (connectionId === 0n)
        return rejectUpgrade(socket, 400, 'Invalid connection ID: the all-zeros ConnectionId is reserved.');
      const db = options.databases.get(decodeURIComponent(path[1] as string));
      if (!db) return rejectUpgrade(socket, 404);
      const selected = selectProtocol(offeredProtocols(req.headers['sec-websocket-protocol']));
      if (!selected) return rejectUpgrade(socket, 400, 'no valid protocol selected');

      const identity = verified.claims.identity;
      const refused = open.open(identity);
      if (refused) return rejectUpgrade(socket, refused.status, refused.text);
      // Counted from here until the connection ends, or until the socket dies before the upgrade completes.
      let handedOver = false;
      socket.once('close', () => {
        if (!handedOver) open.close(identity);
      });
      upgradeHeaders.set(req, [
        `spacetime-identity: ${identityToHex(identity)}`,
        `spacetime-identity-token: ${token}`,
      ]);
      const hub = hubFor(db);
      wss.handleUpgrade(req, socket, head, (ws) => {
        handedOver = true;
        const done = runClientConnection({
          ws,
          db,
          hub,
          identity,
          connectionId,
          token,
          jwtPayload: verified.payloadJson,
          version: selected.version,
          compression: params.compression,
          // `resolve_confirmed_reads_default`: v2/v3 default to confirmed reads.
          confirmedReads: params.confirmed ?? true,
          keepalive,
          limits,
          logger,
        }).finally(() => {
          connections.delete(ws);
          open.close(identity);
        });
        connections.set(ws, done);
      });
    } catch (e) {
      logger.error({ err: e instanceof Error ? e.message : String(e) }, 'websocket upgrade failed');
      rejectUpgrade(socket, 500, 'internal error');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  logger.info({ url: `http://${urlHost}:${address.port}` }, 'devhost server listening');

  return {
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    trustIssuer: (issuer) => {
      trusted.add(issuer);
    },
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ws of connections.keys()) {
        ws.close(1001, 'server shutting down');
        setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
      }
      await Promise.all(connections.values());
      for (const hub of hubs.values()) hub.close();
      hubs.clear();
      wss.close();
      server.closeAllConnections();
      await stopped;
    },
  };
}

export type { Socket };
