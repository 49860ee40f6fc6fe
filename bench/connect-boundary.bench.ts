/**
 * The Connect boundary of a publish alone: body read, UTF-8 and depth checks, the decode, Connect's
 * handler and the scope interceptor, for batches of 10 and of 100 × 200 B envelopes in Connect JSON
 * over HTTP/1.1 — with a method that answers at once (no SpacetimeDB) and a gate that admits every
 * call (the token check has its own cost and cache, adapter/auth/verified-tokens.ts). What
 * adapter/http/connect-handler.ts adds to every publish, free of the reducer's noise: the A/B of
 * its single decode (bench/results/profile-2026-12-02-debts.md) is this case on both sides.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { AuthGate } from '../adapter/http/auth-gate.js';
import { connectHandler } from '../adapter/http/connect-handler.js';
import { DEFAULT_INGEST_LIMITS } from '../adapter/ingest/ingest-limits.js';
import { IngestService, PublishResponseSchema } from '../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { syncEnvelope } from '../test/support/envelopes.js';
import type { BenchCase } from './harness.js';

const BODY = 'x'.repeat(200);

/** Admits every call as an unscoped publisher. */
const admitAll: AuthGate = {
  call: async () => ({
    principal: {
      issuer: 'bench',
      subject: 'bench',
      roles: new Set(['publisher']),
      streams: [],
      topics: [],
      deviceId: '',
    },
    scoped: false,
  }),
  ops: async () => true,
};

export const boundaryCase = (batch: number) =>
  `ingest: Connect boundary only, batches of ${batch} × 200 B in JSON, answered at once (no SpacetimeDB)`;

export default function suite(): BenchCase[] {
  let server: Server | undefined;
  let client: ReturnType<typeof createClient<typeof IngestService>>;
  const setup = async () => {
    if (server) return;
    const s = createServer(
      connectHandler({
        routes: (router) =>
          router.service(IngestService, {
            publish: () => create(PublishResponseSchema, {}),
            negotiate: () => ({}),
          }),
        readMaxBytes: DEFAULT_INGEST_LIMITS.maxBodyBytes,
        jsonMaxDepth: DEFAULT_INGEST_LIMITS.jsonMaxDepth,
        onError: (e) => console.error(e),
        gate: admitAll,
      }),
    );
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    server = s;
    const baseUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    client = createClient(IngestService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
  };
  const teardown = async () => {
    const s = server;
    server = undefined;
    s?.closeAllConnections();
    await new Promise((r) => s?.close(r));
  };
  return [10, 100].map((batch) => {
    // One batch, sent again and again: the method stores nothing, and the publisher's own envelope
    // building (a SHA-256 per payload) stays out of the figure.
    const envelopes = Array.from({ length: batch }, (_, i) =>
      syncEnvelope('bench:boundary', `k${i}`, BODY, BigInt(i + 1), { authorityTopic: 'bench' }),
    );
    // CPU time per call as well: on the shared machine wall time mostly measures the other
    // processes, while the process's own CPU time (publisher and server, nothing else runs here)
    // shows what the boundary costs.
    const cpuUs: number[] = [];
    const publish = async () => {
      const before = process.cpuUsage();
      await client.publish({ envelopes });
      const used = process.cpuUsage(before);
      cpuUs.push(used.user + used.system);
    };
    const report = () => {
      const sorted = cpuUs.splice(0).sort((x, y) => x - y);
      const median = sorted[sorted.length >> 1] ?? 0;
      return [
        `CPU per call (publisher + server in this process): median ${median} µs of ${sorted.length} calls`,
      ];
    };
    return { name: boundaryCase(batch), opsPerRun: batch, setup, run: publish, teardown, report };
  });
}
