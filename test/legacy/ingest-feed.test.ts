/**
 * One authority log reaching both lanes through the ingest path: the service on embedded devhost with
 * the legacy lane's mirror as its accepted-envelope sink. What the ingest API committed appears on the
 * legacy lane under its authority topic, numbered by the lane; other topics are counted, not mirrored;
 * a payload that is not a JSON object is refused for that lane with a reason and the publish stands.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../adapter/service.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { createMetricsRegistry } from '../../adapter/telemetry/metrics.js';
import { LegacyLaneClient, type LegacyUpdate } from '../../legacy/client/index.js';
import { type LegacyLane, mintToken, parseKeyring, startLegacyLane } from '../../legacy/index.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { authedTransport, testAuthConfig } from '../support/auth.js';
import { syncEnvelope } from '../support/envelopes.js';

const RUNS = 'runtime.run_summaries';
const keyring = parseKeyring('ingest-test=0123456789abcdef0123456789abcdef', 'test');
const registry = createMetricsRegistry();
let lane: LegacyLane;
let service: RunningService;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent' });
  lane = await startLegacyLane({
    dataDir: await mkdtemp(join(tmpdir(), 'legacy-ingest-')),
    keyring,
    logger,
    registry,
  });
  service = await startService(
    {
      spacetime: { kind: 'embedded', port: 0 },
      ingest: { host: '127.0.0.1', port: 0 },
      auth: testAuthConfig,
      logLevel: 'silent',
    },
    logger,
    { registry, acceptedSink: lane.mirror },
  );
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await lane?.stop();
});

describe('legacy lane fed by the ingest path', () => {
  it('mirrors committed events by authority topic; counts other topics; refuses non-JSON payloads with a reason', async () => {
    const seen: LegacyUpdate[] = [];
    const client = await LegacyLaneClient.connect({
      url: lane.url,
      token: await mintToken(keyring, { topics: [RUNS] }),
      heartbeatMs: 0,
      onUpdate: (u) => seen.push(u),
    });
    await client.subscribe([RUNS]);
    const ingest = createClient(IngestService, authedTransport(service.httpUrl));
    const runs = (key: string, body: string, seq: bigint) =>
      syncEnvelope('runtime/run_summary:run_7', key, body, seq, { authorityTopic: RUNS });
    const published = await ingest.publish({
      envelopes: [
        runs('r1', '{"status":"running","b":1,"a":2}', 1n),
        syncEnvelope('chat:1', 'c1', '{"text":"hi"}', 1n, { authorityTopic: 'chat.messages' }),
        runs('r2', 'not json', 2n),
        runs('r3', '[1,2]', 3n),
        runs('r4', '{"status":"done"}', 4n),
        // A worker event on a stream outside the topic's doc-key rule has no generation-1 name.
        syncEnvelope('workers/w1', 'w1', '{"seq":1}', 1n, { authorityTopic: 'runtime.codex_worker_events' }),
      ],
    });
    expect(published.results.every((r) => r.outcome === PublishOutcome.APPENDED)).toBe(true);
    await expect.poll(() => seen.length).toBe(2);
    expect(seen.map((u) => [u.topic, u.watermark, u.docKey, u.docVersion, u.payload])).toEqual([
      [RUNS, 1, 'runtime/run_summary:run_7', 1, { status: 'running', b: 1, a: 2 }],
      [RUNS, 2, 'runtime/run_summary:run_7', 4, { status: 'done' }],
    ]);
    // A retried publish is a duplicate on both lanes: same seq here, same watermark there.
    const retried = await ingest.publish({ envelopes: [runs('r4', '{"status":"done"}', 4n)] });
    expect(retried.results[0]?.outcome).toBe(PublishOutcome.DUPLICATE);
    expect(lane.mirror.counts()).toMatchObject({
      appended: 2,
      duplicate: 1,
      topic_not_served: 1,
      payload_not_json: 1,
      payload_not_object: 1,
      unmappable: 1,
    });
    const metrics = await registry.metrics();
    expect(metrics).toContain('spacetime_sync_legacy_lane_events_total{outcome="payload_not_json"} 1');
    expect(metrics).toContain('spacetime_sync_legacy_lane_events_total{outcome="topic_not_served"} 1');
    expect(lane.journal.head(RUNS)).toBe(2);
    await client.close();
  });
});
