/**
 * The service writes as a writer identity the owner granted, not as the module owner (issue 14): with
 * an embedded devhost it mints that identity at start with the owner's token, keeps its token in a
 * 0600 file beside the data, and everything it runs afterwards (ingest, cursors, the delivery probe)
 * works with the writer token alone.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningService, WRITER_TOKEN_FILE } from '../../adapter/service.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport } from '../support/auth.js';
import { syncEnvelope as envelope } from '../support/envelopes.js';
import { startTestService } from '../support/service-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'writer-identity-'));
let service: RunningService | undefined;

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ownerHex = (s: RunningService) => (s.devhost?.ownerIdentity ?? 0n).toString(16).padStart(64, '0');

describe('the adapter identity', () => {
  it('is a granted writer, not the owner, and keeps its identity across restarts', async () => {
    service = await startTestService({
      spacetime: { kind: 'embedded', port: 0, dataDir: dir },
      probeIntervalMs: 50,
    });
    const first = service.writer.connection.identity;
    expect(first).toBeDefined();
    expect(first).not.toBe(ownerHex(service));
    expect(statSync(join(dir, WRITER_TOKEN_FILE)).mode & 0o777).toBe(0o600);

    const client = createClient(IngestService, authedTransport(service.httpUrl));
    const res = await client.publish({ envelopes: [envelope('wid:1', 'k1', 'x', 1n)] });
    expect(res.results.map((r) => [r.seq, r.outcome])).toEqual([[1n, PublishOutcome.APPENDED]]);
    // The writer sees stream heads without a read grant (admin answers and lag come from them).
    expect(service.writer.stream('wid:1')?.head).toBe(1n);
    // The delivery probe reads its stream as the writer identity (it grants itself the stream).
    await expect
      .poll(
        async () =>
          /spacetime_sync_probe_fanout_seconds_count (\d+)/.exec(
            await fetch(`${service?.httpUrl}/metrics`).then((r) => r.text()),
          )?.[1] ?? '0',
        { timeout: 15_000, interval: 100 },
      )
      .not.toBe('0');

    await service.stop();
    service = await startTestService({ spacetime: { kind: 'embedded', port: 0, dataDir: dir } });
    expect(service.writer.connection.identity).toBe(first);
    expect(service.writer.stream('wid:1')?.head).toBe(1n);
  }, 60_000);
});
