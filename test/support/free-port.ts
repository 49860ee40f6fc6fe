/**
 * A TCP port free on loopback right now: listen on port 0, read the port the kernel gave, close.
 * For a process a test or bench starts with a fixed port (so it can be restarted on the same one).
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
