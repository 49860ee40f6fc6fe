/**
 * Refused requests are counted by reason in `spacetime_sync_auth_failures_total`, and the cutover's
 * auth-failures gate reads that count: a burst of failed authentications over the threshold closes
 * it, so an advance is refused with the gate named. A running service (embedded devhost, no Kafka),
 * called over HTTP as a client with a missing, malformed, expired or foreign token would call it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError, createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OPERATOR_TOKEN_HEADER } from '../../adapter/admin/cutover-rpcs.js';
import { cutoverConfig } from '../../adapter/cutover/config.js';
import type { RunningService } from '../../adapter/service.js';
import { AdminService, CutoverStage } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { InvalidDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { authedTransport, testToken } from '../support/auth.js';
import { startTestService } from '../support/service-harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'auth-failures-gate-'));
let service: RunningService;

const admin = () => createClient(AdminService, authedTransport(service.httpUrl));
const gate = async () =>
  (await admin().getCutoverState({})).gates.find((g) => g.gate === 'auth_failures_per_min');
const failures = async () =>
  Object.fromEntries(
    [
      ...(await (await fetch(`${service.httpUrl}/metrics`)).text()).matchAll(
        /^spacetime_sync_auth_failures_total\{reason="(\w+)"\} (\d+)$/gm,
      ),
    ].map((m) => [m[1], Number(m[2])]),
  );

/** One call to GetCutoverState with this authorization header (none when undefined): its HTTP status. */
async function call(authorization: string | undefined): Promise<number> {
  const res = await fetch(`${service.httpUrl}/spacetime_sync.v1.AdminService/GetCutoverState`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: '{}',
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  service = await startTestService({
    spacetime: { kind: 'embedded', port: 0, dataDir },
    probeIntervalMs: 0,
    cutover: cutoverConfig(
      {
        CUTOVER_TICK_MS: '100',
        // A minute's window: the reading per minute is the count itself.
        CUTOVER_GATE_WINDOW_MS: '60000',
        CUTOVER_MAX_AUTH_FAILURES_PER_MIN: '5',
      },
      (v, m) => new Error(`${v}: ${m}`),
    ),
  });
  // Out of legacy_only, whose advance checks the soak only: from shadow on every gate is judged.
  await admin().advanceCutover(
    { reason: 'shadow', actor: 'test' },
    { headers: { [OPERATOR_TOKEN_HEADER]: service.devhost?.ownerToken as string } },
  );
}, 120_000);

afterAll(async () => {
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('auth failures', () => {
  it('are exported by reason from the start, and the gate reads 0 (measured, open)', async () => {
    expect(await failures()).toEqual({
      missing: 0,
      malformed: 0,
      rejected: 0,
      expired: 0,
      forbidden: 0,
      throttled: 0,
    });
    await vi.waitFor(async () => expect((await gate())?.reading).toBe(0), { timeout: 10_000 });
    expect((await gate())?.ok).toBe(true);
  });

  it('count each refused call once by reason and close the gate: an advance is refused naming it', async () => {
    const statuses = [
      await call(undefined),
      await call(undefined),
      await call('Basic dXNlcjpwYXNz'),
      await call('Bearer not.a.jwt'),
      await call(`Bearer ${await testToken({ ttlS: -120 })}`),
      await call(`Bearer ${await testToken({ audience: 'another-service' })}`),
      // Authenticated, but a publisher may not read the cutover.
      await call(`Bearer ${await testToken({ roles: ['publisher'] })}`),
    ];
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 403]);
    // Accepted calls count nothing.
    expect(await call(`Bearer ${await testToken({ roles: ['operator'] })}`)).toBe(200);
    expect(await failures()).toEqual({
      missing: 2,
      malformed: 2,
      rejected: 1,
      expired: 1,
      forbidden: 1,
      throttled: 0,
    });

    await vi.waitFor(
      async () => expect(await gate()).toMatchObject({ reading: 7, ok: false, threshold: 5 }),
      { timeout: 10_000 },
    );
    const refused = await admin()
      .advanceCutover(
        { percent: 10, reason: 'canary', actor: 'test' },
        { headers: { [OPERATOR_TOKEN_HEADER]: service.devhost?.ownerToken as string } },
      )
      .then(
        () => undefined,
        (e) => ConnectError.from(e),
      );
    const violations = refused?.findDetails(InvalidDetailSchema)[0]?.fieldViolations ?? [];
    expect(violations.map((v) => [v.field, v.description])).toContainEqual([
      'gates.auth_failures_per_min',
      'auth_failures_per_min 7 > 5',
    ]);
    expect((await admin().getCutoverState({})).state?.stage).toBe(CutoverStage.SHADOW);
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^spacetime_sync_cutover_gate_ok\{gate="auth_failures_per_min"\} 0$/m);
  });
});
