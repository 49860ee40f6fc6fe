/**
 * Guessing tokens from one address is throttled (security audit: nothing bounded failed
 * authentications): after AUTH_FAILURE_BURST failures an address is refused before its token is even
 * verified, with RESOURCE_EXHAUSTED (HTTP 429), retryable, a retry hint in the detail and in
 * Retry-After; every other address is served as before, the refusals are counted as `throttled`, and
 * the process keeps answering. A running service on loopback; the second peer is 127.0.0.2.
 */
import { request } from 'node:http';
import { ConnectError } from '@connectrpc/connect';
import { errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import {
  ErrorInfoSchema,
  ErrorReason,
  ResourceExhaustedDetailSchema,
} from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { testToken } from '../support/auth.js';
import { startTestService } from '../support/service-harness.js';

let service: RunningService;

beforeAll(async () => {
  // A window of an hour: nothing refills while the test runs, so the counts are exact.
  service = await startTestService({
    probeIntervalMs: 0,
    failureLimits: { burst: 3, windowMs: 3_600_000, maxPeers: 1000 },
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  error: ConnectError;
}

/** One Negotiate call from `from` (a loopback source address) with this authorization header. */
function call(authorization: string | undefined, from = '127.0.0.1'): Promise<Answer> {
  const url = new URL(`${service.httpUrl}/spacetime_sync.v1.IngestService/Negotiate`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const retry = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(retry) ? retry[0] : retry,
            error: errorFromJsonBytes(Buffer.concat(chunks), undefined, new ConnectError('no error body')),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ supported: [{ major: 1, minor: 0 }] }));
  });
}

const throttled = async () =>
  Number(
    /^spacetime_sync_auth_failures_total\{reason="throttled"\} (\d+)$/m.exec(
      await (await fetch(`${service.httpUrl}/metrics`)).text(),
    )?.[1],
  );

describe('failed authentications from one address', () => {
  it('are refused with RESOURCE_EXHAUSTED and a retry hint past the burst, even with a valid token', async () => {
    const valid = `Bearer ${await testToken({ roles: ['publisher'] })}`;
    expect((await call(valid)).status).toBe(200);
    const forged = `Bearer ${await testToken({ audience: 'another-service' })}`;
    expect([
      (await call(forged)).status,
      (await call(undefined)).status,
      (await call(forged)).status,
    ]).toEqual([401, 401, 401]);
    expect(await throttled()).toBe(0);

    const refused = await call(forged);
    expect(refused.status).toBe(429);
    expect(refused.error.findDetails(ErrorInfoSchema)).toEqual([
      expect.objectContaining({ reason: ErrorReason.RESOURCE_EXHAUSTED, retryable: true }),
    ]);
    const [detail] = refused.error.findDetails(ResourceExhaustedDetailSchema);
    expect(detail).toMatchObject({ limit: 'failed authentications', max: 3n });
    // One failure of an hour's burst of 3 refills in 20 minutes (less the moments since the last one).
    const hintS = Number(detail?.retryAfter?.seconds ?? 0n) + (detail?.retryAfter?.nanos ?? 0) / 1e9;
    expect(hintS).toBeGreaterThan(1100);
    expect(hintS).toBeLessThanOrEqual(1200);
    expect(Number(refused.retryAfter)).toBe(Math.ceil(hintS));
    // Refused before verification: a valid token from this address waits too.
    expect((await call(valid)).status).toBe(429);
    expect(await throttled()).toBe(2);
  });

  it('leave every other address and the process serving', async () => {
    const valid = `Bearer ${await testToken({ roles: ['publisher'] })}`;
    expect((await call(valid, '127.0.0.2')).status).toBe(200);
    expect((await call(undefined, '127.0.0.2')).status).toBe(401);
    expect((await fetch(`${service.httpUrl}/healthz`)).status).toBe(200);
  });
});
