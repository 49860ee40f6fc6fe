/**
 * The Connect fuzz targets' HTTP client: `node:http` over one keep-alive agent. A long run posts a
 * million bodies; `fetch` (undici, web streams, an AbortSignal per request) cost more CPU per request
 * than the service's own handling of many of them, on a machine whose cores the service shares.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true });

export interface Answer {
  readonly status: number;
  readonly bytes: Uint8Array;
}

/** POSTs `body` to `url`; resolves with the status and the whole answer body, rejects if the connection fails. */
export function post(url: string, headers: Record<string, string>, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Closes the agent's idle connections (a target's afterAll). */
export function closeConnections(): void {
  agent.destroy();
}
