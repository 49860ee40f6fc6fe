/**
 * The legacy lane's websocket endpoint: `/socket/websocket` (and `/sync/socket/websocket`, the path
 * the desktop used), Phoenix V2 JSON only (`vsn=2.0.0`), the sync JWT in the `token` query parameter.
 * An upgrade without a valid token is refused with HTTP 403 and no body, as the original refused it
 * (fact sheet §1, §8); the reason is logged, never the token.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { DEFAULT_EXPECTED_CLAIMS, type ExpectedClaims } from '../auth/claims.js';
import type { Keyring } from '../auth/keyring.js';
import { verifyToken } from '../auth/tokens.js';
import type { PolicyOverrides } from '../protocol/topic-policy.js';
import type { JournalView } from './batches.js';
import type { ChannelConfig } from './channel-state.js';
import { LaneConnection } from './connection.js';

export const LANE_PATHS = ['/socket/websocket', '/sync/socket/websocket'];

export interface LaneServerOptions {
  readonly journal: JournalView;
  readonly keyring: Keyring;
  readonly servedTopics: readonly string[];
  readonly logger: Logger;
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  readonly expectedClaims?: ExpectedClaims;
  readonly policy?: PolicyOverrides;
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  readonly batchSize?: number;
  /** Largest accepted client frame; a bigger one closes that socket with 1009. */
  readonly maxFrameBytes?: number;
}

export interface LaneServer {
  /** `ws://host:port/socket/websocket` */
  readonly url: string;
  readonly port: number;
  /** Tell every socket subscribed to `topic` that its head moved. */
  notify(topic: string): void;
  connectionCount(): number;
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function startLaneServer(o: LaneServerOptions): Promise<LaneServer> {
  const host = o.host ?? '127.0.0.1';
  const config: ChannelConfig = {
    servedTopics: new Set(o.servedTopics),
    policy: o.policy ?? {},
    batchSize: o.batchSize ?? 200,
    heartbeatTimeoutMs: o.heartbeatTimeoutMs ?? 60_000,
    drainTopicsPerTick: 2,
    queueLimit: 64,
    maxStrikes: 3,
    reconnectAfterMs: 2_000,
  };
  const connections = new Set<LaneConnection>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes ?? 1024 * 1024 });
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without an error listener and the token check awaits: a client
    // resetting meanwhile must not be an uncaught error (as devhost's upgrade-reset test shows).
    socket.on('error', (err) => o.logger.info({ err: err.message }, 'legacy socket failed during upgrade'));
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://lane');
      if (!LANE_PATHS.includes(url.pathname)) return refuse(socket, 404, 'Not Found');
      if (url.searchParams.get('vsn') !== '2.0.0') return refuse(socket, 400, 'Bad Request');
      const check = await verifyToken(
        url.searchParams.get('token') ?? undefined,
        o.keyring,
        o.expectedClaims ?? DEFAULT_EXPECTED_CLAIMS,
      );
      if (!check.ok) {
        o.logger.info({ reason: check.reason, detail: check.detail }, 'legacy lane refused a socket');
        return refuse(socket, 403, 'Forbidden');
      }
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn: LaneConnection = new LaneConnection(ws, {
          ...config,
          journal: o.journal,
          principal: check.principal,
          heartbeatIntervalMs: o.heartbeatIntervalMs ?? 15_000,
          logger: o.logger,
          onClosed: () => connections.delete(conn),
        });
        connections.add(conn);
      });
    })().catch((e: unknown) => {
      o.logger.error({ err: (e as Error).message }, 'legacy lane upgrade failed');
      refuse(socket, 500, 'Internal Server Error');
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as { port: number }).port;
  return {
    url: `ws://${host}:${port}/socket/websocket`,
    port,
    notify(topic) {
      for (const c of connections) c.notify(topic);
    },
    connectionCount: () => connections.size,
    async close() {
      for (const c of connections) c.close(1001, 'legacy lane stopping');
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
