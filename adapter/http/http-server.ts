/**
 * One HTTP listener for operations and ingest: `/metrics` (Prometheus text), `/healthz` (the process
 * answers), `/readyz` (SpacetimeDB connected and, when configured, the Kafka consumer running) and
 * the Connect services (ingest, admin) on every other path.
 */
import { createServer, type Server } from 'node:http';
import type { ServiceImpl } from '@connectrpc/connect';
import type { Registry } from 'prom-client';
import { AdminService } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { connectHandler } from './connect-handler.js';

/**
 * The largest request body: a full PublishRequest (500 envelopes of up to 1 MiB payload each) in
 * JSON, whose base64 payloads are a third larger than the bytes, with room for the other fields.
 */
export const READ_MAX_BYTES = 700 * 1024 * 1024;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly ingest: ServiceImpl<typeof IngestService>;
  readonly admin: Partial<ServiceImpl<typeof AdminService>>;
  /** Called before each scrape, to refresh gauges computed from state. */
  readonly beforeScrape: () => void;
  readonly ready: () => { ok: boolean; why?: string };
  /** A Connect call that failed past the point of answering it. */
  readonly onError: (e: unknown) => void;
}

export async function startHttpServer(
  o: HttpServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const connect = connectHandler({
    routes: (router) => router.service(IngestService, o.ingest).service(AdminService, o.admin),
    readMaxBytes: READ_MAX_BYTES,
    onError: o.onError,
  });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      o.beforeScrape();
      void o.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': o.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const r = o.ready();
      res
        .writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(r.ok ? 'ready\n' : `not ready: ${r.why ?? ''}\n`);
      return;
    }
    connect(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return {
    server,
    url: `http://${o.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
