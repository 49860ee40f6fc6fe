/**
 * Node 20's built-in fetch (its bundled undici 6.x) compiles its HTTP parser (WebAssembly) lazily and
 * asynchronously, and the first connection of the process waits for that compile *before* it listens
 * for the socket's `close`/`error`. A peer that accepts and closes at once (a proxy or load balancer
 * with nothing behind it, a SpacetimeDB host going down or coming up) closes the socket inside that
 * window: the close is never seen and the request waits forever — no error, no timeout. The
 * SpacetimeDB SDK's connect starts with such a fetch (`/v1/identity/websocket-token`), so an adapter
 * started during an outage behind a proxy hung silently at its first connection (chaos finding,
 * README "Faults survived"). One request to a server of our own on loopback before any other fetch
 * lets the compile finish first; later connections attach their listeners without waiting.
 * Harmless where fetch does not have the bug (Node 22+ bundles a fixed undici). The service calls
 * it at start; the client library (`SyncClient.open`) through `warmHttpParserOnce`, on Node 20 only.
 */
import { createServer } from 'node:http';

/** Resolves once the process's fetch has made one complete request; never rejects (the warm-up is best effort). */
export async function warmHttpParser(): Promise<void> {
  const server = createServer((_req, res) => {
    res.setHeader('connection', 'close');
    res.end();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') return;
    await (await fetch(`http://127.0.0.1:${address.port}/`)).arrayBuffer();
  } catch {
    // Loopback unavailable: nothing to warm with; the service works as before.
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let warmed: Promise<void> | undefined;

/**
 * The warm-up once per process, and only where fetch has the bug (Node before 22): what a library
 * calls before its first connection (the desktop client), so many clients in one process warm once.
 */
export function warmHttpParserOnce(): Promise<void> {
  const major = Number(globalThis.process?.versions?.node?.split('.')[0] ?? 0);
  if (!(major > 0 && major < 22)) return Promise.resolve();
  warmed ??= warmHttpParser();
  return warmed;
}
