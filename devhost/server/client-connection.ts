/**
 * The life of one accepted websocket, in SpacetimeDB's order (`routes/subscribe.rs`,
 * `module_host.rs`): client_connected runs before anything is sent (a rejection drops the socket with
 * no message), then InitialConnection; keepalive pings every 15 s and a 30 s idle limit; on close the
 * client's subscriptions go first, then client_disconnected runs.
 */
import type WebSocket from 'ws';
import type { HostedDatabase } from '../contract.js';
import { ClientSession } from './client-session.js';
import type { DatabaseHub } from './database-hub.js';
import type { Compression, WsVersion } from './framing.js';
import type { DevhostLimits } from './limits.js';
import type { DevhostLogger } from './logger.js';

export interface KeepaliveOptions {
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
}

/** `WebSocketOptions::DEFAULT` of the real server. */
export const DEFAULT_KEEPALIVE: KeepaliveOptions = { pingIntervalMs: 15_000, idleTimeoutMs: 30_000 };

/** Close code SpacetimeDB uses when a client message cannot be handled (`CloseCode::Error`). */
export const CLOSE_ERROR = 1011;
/** Close code for a client dropped for exceeding a limit (`CloseCode::Policy`). */
export const CLOSE_POLICY = 1008;
/** How long a dropped client that does not read gets to take its close frame before the socket is cut. */
const DROP_GRACE_MS = 1_000;
/** A close frame's reason must fit 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

export interface ClientConnectionOptions {
  readonly ws: WebSocket;
  readonly db: HostedDatabase;
  readonly hub: DatabaseHub;
  readonly identity: bigint;
  readonly connectionId: bigint;
  readonly token: string;
  readonly jwtPayload: string;
  readonly version: WsVersion;
  readonly compression: Compression;
  readonly confirmedReads: boolean;
  readonly keepalive: KeepaliveOptions;
  readonly limits: DevhostLimits;
  readonly logger: DevhostLogger;
}

export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  // Cut on a character boundary: decoding a truncated sequence would add a replacement character.
  let end = MAX_CLOSE_REASON_BYTES;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function frameBytes(data: WebSocket.RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

/** Pings while the last ping was answered; drops the socket after `idleTimeoutMs` without traffic. */
function startKeepalive(ws: WebSocket, { pingIntervalMs, idleTimeoutMs }: KeepaliveOptions): () => void {
  let ponged = true;
  const ping = setInterval(() => {
    // An unanswered ping means the client is gone or far behind; another one would not help.
    if (!ponged) return;
    ponged = false;
    ws.ping();
  }, pingIntervalMs);
  const idle = setTimeout(() => ws.terminate(), idleTimeoutMs);
  const touch = () => idle.refresh();
  ws.on('message', touch);
  ws.on('ping', touch);
  ws.on('pong', () => {
    ponged = true;
    touch();
  });
  return () => {
    clearInterval(ping);
    clearTimeout(idle);
  };
}

/** Runs the connection to its end; resolves once client_disconnected has run (or connect was refused). */
export async function runClientConnection(o: ClientConnectionOptions): Promise<void> {
  const caller = { identity: o.identity, connectionId: o.connectionId };
  const log = { db: o.db.name, connectionId: o.connectionId.toString(16) };
  // One socket per (identity, connection id): a second would share, then tear down, the first's client row.
  if (!o.hub.claim(caller)) {
    o.logger.warn(log, 'connection refused: this identity already has a connection with this id');
    o.ws.close(CLOSE_ERROR, 'this connection id is already connected');
    return;
  }
  try {
    await runClaimed(o, caller, log);
  } finally {
    o.hub.release(caller);
  }
}

async function runClaimed(
  o: ClientConnectionOptions,
  caller: { identity: bigint; connectionId: bigint },
  log: { db: string; connectionId: string },
): Promise<void> {
  const { ws, db, logger } = o;
  let session: ClientSession | undefined;
  let socketClosed = false;
  const early: Array<[Uint8Array, boolean]> = [];
  const closed = new Promise<void>((resolve) =>
    ws.once('close', () => {
      socketClosed = true;
      resolve();
    }),
  );
  ws.on('message', (data, isBinary) => {
    const bytes = frameBytes(data);
    if (session) session.handleFrame(bytes, isBinary);
    else early.push([bytes, isBinary]);
  });
  ws.on('error', (err) => logger.warn({ ...log, err: err.message }, 'websocket error'));
  const stopKeepalive = startKeepalive(ws, o.keepalive);

  let accepted: boolean;
  try {
    accepted = await db.connectClient(caller, o.jwtPayload);
  } catch (e) {
    logger.error({ ...log, err: e instanceof Error ? e.message : String(e) }, 'client_connected failed');
    accepted = false;
  }
  if (!accepted) {
    stopKeepalive();
    logger.info(log, 'connection rejected by client_connected');
    ws.terminate();
    return;
  }

  if (!socketClosed) {
    const live = new ClientSession({
      db,
      hub: o.hub,
      identity: o.identity,
      connectionId: o.connectionId,
      token: o.token,
      version: o.version,
      compression: o.compression,
      confirmedReads: o.confirmedReads,
      limits: o.limits,
      sendFrame: (frame) => {
        if (ws.readyState !== ws.OPEN) return;
        // A client that stops reading would make the server hold everything for it: drop it instead.
        if (ws.bufferedAmount > o.limits.outboundBytes) {
          const reason = `outbound buffer limit of ${o.limits.outboundBytes} bytes exceeded: the client is not reading`;
          logger.warn({ ...log, buffered: ws.bufferedAmount }, reason);
          live.close();
          ws.close(CLOSE_POLICY, closeReason(reason));
          setTimeout(() => ws.terminate(), DROP_GRACE_MS).unref();
          return;
        }
        ws.send(frame, { binary: true });
      },
      closeWithError: (reason) => {
        logger.warn({ ...log, reason }, 'closing connection after a client error');
        // Like a closing SpacetimeDB actor, nothing more is sent or handled once the close starts.
        live.close();
        if (ws.readyState === ws.OPEN) ws.close(CLOSE_ERROR, closeReason(reason));
      },
      logger,
    });
    session = live;
    live.start();
    logger.info(log, 'client connected');
    for (const [bytes, isBinary] of early.splice(0)) live.handleFrame(bytes, isBinary);
    await closed;
  }
  stopKeepalive();
  session?.close();
  try {
    await db.disconnectClient(caller);
  } catch (e) {
    logger.error({ ...log, err: e instanceof Error ? e.message : String(e) }, 'client_disconnected failed');
  }
  logger.info(log, 'client disconnected');
}
