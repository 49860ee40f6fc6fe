/**
 * A TCP front door on loopback for the "SpacetimeDB is not there yet" tests: until `open()` every
 * connection is either closed at once (`'close'`: a proxy with nothing behind it) or accepted and
 * never answered (`'hold'`: a peer that hangs); after `open()` connections are piped to the backend
 * port. `accepted` counts the connections it took, so a test can see that a process retried.
 */
import { createServer, type Socket as NetSocket, Socket } from 'node:net';

export interface FrontDoor {
  readonly port: number;
  /** Connections taken so far. */
  readonly accepted: number;
  /** From now on, pipe connections to the backend. */
  open(): void;
  /** Stops listening and drops every connection it holds. */
  close(): Promise<void>;
}

export async function startFrontDoor(backendPort: number, until: 'close' | 'hold'): Promise<FrontDoor> {
  let accepted = 0;
  let open = false;
  const held = new Set<NetSocket>();
  const server = createServer((client) => {
    accepted += 1;
    client.on('error', () => {});
    if (!open) {
      if (until === 'close') return void client.destroy();
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    const upstream = new Socket();
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.connect(backendPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted;
    },
    open() {
      open = true;
    },
    close() {
      for (const s of held) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
