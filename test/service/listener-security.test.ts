/**
 * The listener as a service off loopback runs it: TLS from certificate files, tokens of a configured
 * issuer (public-key files, two active keys), and /metrics, /healthz, /readyz closed to callers
 * without an operator or admin token (OPS_OPEN decides which stay open). Then mTLS: without a client
 * certificate signed by the configured CA no request gets through at all. Certificates are made with
 * openssl, as an operator would.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapter/config.js';
import { type RunningService, startService } from '../../adapter/service.js';
import { createLogger } from '../../adapter/telemetry/logger.js';
import { AdminService } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';

const dir = mkdtempSync(join(tmpdir(), 'listener-security-'));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCerts(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...ec, '-subj', `/CN=${who}`, '-keyout', file(`${who}.key`), '-out', file(`${who}.csr`));
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${who}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      file(`${who}.pem`),
      ...(who === 'server' ? ['-extfile', file('san.ext')] : []),
    );
  }
}

const issuerKeys = {
  old: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  new: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

function token(key: KeyObject, roles: string[], alg = 'ES256'): Promise<string> {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg })
    .setIssuer('https://idp.test')
    .setAudience('spacetime-sync')
    .setExpirationTime('5m')
    .sign(key);
}

const services: RunningService[] = [];
async function start(env: Record<string, string>): Promise<RunningService> {
  const config = loadConfig({
    INGEST_HOST: '127.0.0.1',
    INGEST_PORT: '0',
    DEVHOST_PORT: '0',
    PROBE_INTERVAL_MS: '0',
    AUTH_LOCAL_ISSUER: '0',
    AUTH_ISSUER_1: 'https://idp.test',
    AUTH_ISSUER_1_KEY_FILES: `${file('old.pem')},${file('new.pem')}`,
    INGEST_TLS_CERT_FILE: file('server.pem'),
    INGEST_TLS_KEY_FILE: file('server.key'),
    OPS_OPEN: 'none',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const s = await startService(config, createLogger({ level: 'silent' }), { defaultMetrics: false });
  services.push(s);
  return s;
}

/** GET over TLS trusting the test CA, optionally with a client certificate. */
function get(
  url: string,
  headers: Record<string, string> = {},
  clientCert = false,
): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        ca: readFileSync(file('ca.pem')),
        headers,
        ...(clientCert
          ? { cert: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) }
          : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    req.end();
  });
}

beforeAll(() => {
  makeCerts();
  writeFileSync(file('old.pem'), issuerKeys.old.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  writeFileSync(file('new.pem'), issuerKeys.new.publicKey.export({ type: 'spki', format: 'pem' }) as string);
});
afterAll(async () => {
  for (const s of services) await s.stop();
});

describe('the listener with TLS and a configured issuer', () => {
  it('speaks HTTPS; the operations endpoints need an operator token; tokens of both active keys work', async () => {
    const s = await start({});
    expect(s.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const operator = await token(issuerKeys.old.privateKey, ['operator']);
    const publisher = await token(issuerKeys.old.privateKey, ['publisher']);
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      expect(await get(`${s.httpUrl}${path}`), path).toBe(401);
      expect(await get(`${s.httpUrl}${path}`, { authorization: `Bearer ${publisher}` }), path).toBe(403);
      expect(await get(`${s.httpUrl}${path}`, { authorization: `Bearer ${operator}` }), path).toBe(200);
    }
    // Key rotation: the RS256 key next to the old ES256 one; a Connect client over TLS with either.
    for (const t of [operator, await token(issuerKeys.new.privateKey, ['operator'], 'RS256')]) {
      const admin = createClient(
        AdminService,
        createConnectTransport({
          baseUrl: s.httpUrl,
          httpVersion: '1.1',
          nodeOptions: { ca: readFileSync(file('ca.pem')) },
          interceptors: [
            (next) => (req) => {
              req.header.set('authorization', `Bearer ${t}`);
              return next(req);
            },
          ],
        }),
      );
      expect((await admin.getStatus({})).version).not.toBe('');
    }
    // Plain HTTP to the TLS port gets nothing served.
    const plain = await fetch(s.httpUrl.replace('https:', 'http:') + '/healthz').then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  }, 120_000);

  it('OPS_OPEN leaves the named endpoints open, the rest closed', async () => {
    const s = await start({ OPS_OPEN: 'healthz,readyz' });
    expect(await get(`${s.httpUrl}/healthz`)).toBe(200);
    expect(await get(`${s.httpUrl}/readyz`)).toBe(200);
    expect(await get(`${s.httpUrl}/metrics`)).toBe(401);
  }, 120_000);

  it('with a client CA, a client without a certificate signed by it gets no answer at all (mTLS)', async () => {
    const s = await start({ INGEST_TLS_CLIENT_CA_FILE: file('ca.pem'), OPS_OPEN: 'healthz' });
    expect(await get(`${s.httpUrl}/healthz`)).toMatch(/^error /);
    expect(await get(`${s.httpUrl}/healthz`, {}, true)).toBe(200);
  }, 120_000);
});
