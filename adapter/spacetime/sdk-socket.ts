/**
 * One SDK connection to the sync module as the adapter's connections open it (the writer and the
 * delivery probe): confirmed reads on, so what they see is durable; every way the socket can end —
 * a failed connect or a disconnect — reported once as `onLost` with the reason, so each owner's state
 * machine gets a `socket_lost` for that socket and reconnects on its own schedule. An attempt that
 * neither opens nor fails within `connectTimeoutMs` is reported lost too (./connect-deadline.ts).
 */
import type { Identity } from 'spacetimedb';
import { DbConnection } from '../../module/bindings/index.js';
import { connectDeadline, DEFAULT_CONNECT_TIMEOUT_MS } from './connect-deadline.js';

export interface SdkSocketOptions {
  readonly uri: string;
  readonly database: string;
  readonly token?: string | undefined;
  /** The writer turns compression off (loopback); the probe keeps the SDK's default. */
  readonly compression?: 'none';
  readonly onOpened: (conn: DbConnection, identity: Identity) => void;
  /** Why the socket ended (a connect error is prefixed "connect failed:" with its cause). */
  readonly onLost: (why: string) => void;
  /** A connect error as the SDK reported it, before `onLost` (the writer reads refusals from it). */
  readonly onConnectError?: (err: Error) => void;
  /** Per-attempt bound (./connect-deadline.ts); default DEFAULT_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number | undefined;
}

/** The SDK's connect error with its cause: undici says only "fetch failed", the cause says why. */
export function describeConnectError(err: Error): string {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const why = cause?.code ?? cause?.message;
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
}

export function openSdkSocket(o: SdkSocketOptions): DbConnection {
  let b = DbConnection.builder()
    .withUri(o.uri)
    .withDatabaseName(o.database)
    .withToken(o.token)
    .withConfirmedReads(true);
  if (o.compression) b = b.withCompression(o.compression);
  const deadline = connectDeadline(o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, (why) => {
    o.onLost(why);
    conn.disconnect();
  });
  // Once the deadline gave the attempt up, its late events are not this socket's any more.
  const conn = b
    .onConnect((c, identity) => {
      if (!deadline.settle()) {
        c.disconnect();
        return;
      }
      o.onOpened(c, identity);
    })
    .onConnectError((_ctx, err) => {
      if (!deadline.settle()) return;
      o.onConnectError?.(err);
      o.onLost(`connect failed: ${describeConnectError(err)}`);
    })
    .onDisconnect((_ctx, err) => {
      if (!deadline.settle()) return;
      o.onLost(err ? err.message : 'disconnected');
    })
    .build();
  return conn;
}
