/**
 * One HTTP listener for operations and ingest: `/metrics` (Prometheus text), `/healthz` (the process
 * answers), `/readyz` (SpacetimeDB connected and, when configured, the Kafka consumer running) and
 * the Connect services (ingest, admin) on every other path. Plain HTTP or TLS (optionally requiring
 * client certificates); every Connect call passes the auth gate, the operations endpoints too unless
 * configured open.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { ServiceImpl } from '@connectrpc/connect';
import { codeToHttpStatus } from '@connectrpc/connect/protocol-connect';
import type { Registry } from 'prom-client';
import { AdminService } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { TokenService } from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import type { SyncError } from '../../shared/errors/sync-error.js';
import type { IngestLimits } from '../ingest/ingest-limits.js';
import type { AuthGate } from './auth-gate.js';
import { connectHandler } from './connect-handler.js';
import { refusalHeaders } from './refusal-headers.js';

/** The Connect services the listener serves; each of their methods needs a row in auth/policy.ts. */
export const SERVED_SERVICES = [IngestService, AdminService, TokenService] as const;

export const OPS_ENDPOINTS = ['metrics', 'healthz', 'readyz'] as const;
export type OpsEndpoint = (typeof OPS_ENDPOINTS)[number];

/** PEM contents, read from files by the caller. `ca`: client certificates are required and checked against it. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly ingest: ServiceImpl<typeof IngestService>;
  readonly admin: Partial<ServiceImpl<typeof AdminService>>;
  readonly tokens: ServiceImpl<typeof TokenService>;
  /** Public documents answered to any GET without a token (the token issuer's discovery and JWKS). */
  readonly publicDocument?: (path: string) => Promise<object | undefined>;
  /** Called before each scrape, to refresh gauges computed from state. */
  readonly beforeScrape: () => void;
  readonly ready: () => { ok: boolean; why?: string };
  /** A Connect call that failed past the point of answering it. */
  readonly onError: (e: unknown) => void;
  readonly gate: AuthGate;
  /** Operations endpoints that answer without a token. */
  readonly openOps: ReadonlySet<OpsEndpoint>;
  readonly tls?: TlsMaterial;
  /** Request bounds (ingest/ingest-limits.ts). */
  readonly limits: Pick<IngestLimits, 'maxBodyBytes' | 'jsonMaxDepth'>;
}

function refuse(res: ServerResponse, e: SyncError): void {
  res
    .writeHead(codeToHttpStatus(e.code), { 'content-type': 'text/plain', ...refusalHeaders(e) })
    .end(`${e.reason}: ${e.message}\n`);
}

export async function startHttpServer(
  o: HttpServerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const connect = connectHandler({
    routes: (router) =>
      router.service(IngestService, o.ingest).service(AdminService, o.admin).service(TokenService, o.tokens),
    readMaxBytes: o.limits.maxBodyBytes,
    jsonMaxDepth: o.limits.jsonMaxDepth,
    onError: o.onError,
    gate: o.gate,
  });
  const answerOps = (res: ServerResponse, path: string) => {
    if (path === '/metrics') {
      o.beforeScrape();
      void o.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': o.registry.contentType });
        res.end(text);
      });
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      const r = o.ready();
      res
        .writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(r.ok ? 'ready\n' : `not ready: ${r.why ?? ''}\n`);
    }
  };
  const answerPublic = (res: ServerResponse, path: string) => {
    void (o.publicDocument?.(path) ?? Promise.resolve(undefined)).then(
      (doc) =>
        doc
          ? res
              .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' })
              .end(JSON.stringify(doc))
          : res.writeHead(404).end(),
      (e: unknown) => {
        o.onError(e);
        res.writeHead(500).end();
      },
    );
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const endpoint = OPS_ENDPOINTS.find((e) => path === `/${e}`);
    if (req.method === 'GET' && o.publicDocument && path.startsWith('/.well-known/')) {
      answerPublic(res, path);
      return;
    }
    if (req.method !== 'GET' || !endpoint) {
      connect(req, res);
      return;
    }
    if (o.openOps.has(endpoint)) {
      answerOps(res, path);
      return;
    }
    void o.gate.ops(req, path).then(
      (ok) => (ok === true ? answerOps(res, path) : refuse(res, ok)),
      (e: unknown) => {
        o.onError(e);
        res.writeHead(500).end();
      },
    );
  };
  const server: Server = o.tls
    ? createTlsServer(
        {
          cert: o.tls.cert,
          key: o.tls.key,
          ...(o.tls.ca ? { ca: o.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
        listener,
      )
    : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return {
    server,
    url: `${o.tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
