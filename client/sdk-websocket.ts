/**
 * The SDK's socket, opened with the token in the upgrade's `Authorization` header (the SDK's
 * documented `withWSFn` hook). The SDK's own opener first POSTs the token to
 * `/v1/identity/websocket-token` for a short-lived one to put in the URL — what a browser needs,
 * since it cannot set headers on a WebSocket — and only then upgrades: one more HTTP round trip (and
 * a token signature on the host) before every connection. SpacetimeDB reads a request's credential
 * from the `Authorization: Bearer` header first, the `?token=` parameter after it (devhost:
 * server/credentials.ts), so a Node client can skip the exchange; the long-lived token then travels
 * in a header, never in a URL a proxy might log. In bench:peers' "recover 250 missed" the exchange
 * was about a fifth of the time (bench/results/profile-2026-12-01-recover.md).
 */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip } from 'node:zlib';
import type { DbConnectionBuilder } from 'spacetimedb';
import { WebSocket } from 'ws';

type WebSocketFactory = Parameters<DbConnectionBuilder<never>['withWSFn']>[0];
type WebSocketArgs = Parameters<WebSocketFactory>[0];
type WebSocketAdapter = Awaited<ReturnType<WebSocketFactory>>;

const gunzipAsync = promisify(gunzip);
const brotliAsync = promisify(brotliDecompress);

/** Opens the database's subscribe socket as the SDK would, authenticated by header. */
export const openHeaderAuthSocket: WebSocketFactory = async (args: WebSocketArgs) => {
  const url = new URL(`v1/database/${args.nameOrAddress}/subscribe`, args.url);
  url.searchParams.set('compression', { gzip: 'Gzip', brotli: 'Brotli', none: 'None' }[args.compression]);
  if (args.lightMode) url.searchParams.set('light', 'true');
  if (args.confirmedReads !== undefined) url.searchParams.set('confirmed', String(args.confirmedReads));
  const ws = new (socketClass())(url, args.wsProtocol, {
    headers: args.authToken ? { authorization: `Bearer ${args.authToken}` } : {},
  });
  ws.binaryType = 'arraybuffer';
  return new DecompressingSocket(ws);
};

/**
 * The process's global WebSocket when it is the `ws` package's (ensureWebSocket installs it on Node
 * 20; an application or a test may install a subclass), as the SDK's own opener takes the global one;
 * else the package's own — Node 22+'s built-in WebSocket cannot set request headers.
 */
function socketClass(): typeof WebSocket {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof global === 'function' && (global === WebSocket || global.prototype instanceof WebSocket)
    ? (global as typeof WebSocket)
    : WebSocket;
}

/**
 * What the SDK expects of its socket: every message without its one-byte compression tag and
 * decompressed, in the order they arrived (a compressed message must not overtake an earlier one).
 */
class DecompressingSocket implements WebSocketAdapter {
  /** Messages still being decompressed; a later message waits behind them. */
  private pending: Promise<void> | undefined;

  constructor(private readonly ws: WebSocket) {}

  get protocol(): string {
    return this.ws.protocol;
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  send(msg: Uint8Array<ArrayBuffer>): void {
    this.ws.send(msg);
  }

  close(): void {
    this.ws.close();
  }

  set onclose(handler: WebSocketAdapter['onclose']) {
    this.ws.onclose = handler as unknown as WebSocket['onclose'];
  }

  set onopen(handler: () => void) {
    this.ws.onopen = handler;
  }

  set onerror(handler: WebSocketAdapter['onerror']) {
    this.ws.onerror = handler as unknown as WebSocket['onerror'];
  }

  set onmessage(handler: (msg: { data: Uint8Array }) => void) {
    this.ws.onmessage = (msg) => {
      const bytes = new Uint8Array(msg.data as ArrayBuffer);
      const tag = bytes[0];
      const body = bytes.subarray(1);
      // Uncompressed (the client's choice on loopback) and nothing queued: handed over at once.
      if (tag === 0 && !this.pending) return handler({ data: body });
      const previous = this.pending ?? Promise.resolve();
      const step = previous
        .then(() => decompress(tag, body))
        .then(
          (data) => handler({ data }),
          (e: unknown) => {
            // As the SDK's own adapter: a message that cannot be read ends the socket.
            console.error('[SpacetimeDB] WebSocket decompress failed, closing socket:', e);
            this.ws.close();
          },
        )
        .finally(() => {
          if (this.pending === step) this.pending = undefined;
        });
      this.pending = step;
    };
  }
}

async function decompress(tag: number | undefined, body: Uint8Array): Promise<Uint8Array> {
  switch (tag) {
    case 0:
      return body;
    case 1:
      return new Uint8Array(await brotliAsync(body));
    case 2:
      return new Uint8Array(await gunzipAsync(body));
    default:
      throw new Error('Unexpected Compression Algorithm. Please use `gzip` or `none`');
  }
}
