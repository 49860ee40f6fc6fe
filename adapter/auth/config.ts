/**
 * The listener's security settings, read with the service's configuration (adapter/config.ts):
 * token issuers, audience and clock skew, the machine-local issuer, TLS and which operations
 * endpoints are open. Keys and certificates are named by file, never given inline. The one rule that
 * ties them together: a listener off loopback must have an issuer to check tokens against (and TLS
 * or an explicit INGEST_ALLOW_PLAINTEXT=1), or the service does not start.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { stateDir } from '../../shared/state-dir.js';
import type { OpsEndpoint } from '../http/http-server.js';
import { MAX_CLOCK_SKEW_S } from './authenticator.js';
import { DEFAULT_FAILURE_LIMITS, type FailureLimits } from './failure-limiter.js';
import type { IssuerConfig } from './issuer-keys.js';
import { DEFAULT_AUDIENCE } from './local-issuer.js';

export interface AuthConfig {
  /** The `aud` every token must carry. */
  readonly audience: string;
  readonly clockSkewS: number;
  readonly issuers: readonly IssuerConfig[];
  /** The machine-local issuer's private key file (created on first start); absent = off. */
  readonly localIssuerKeyFile?: string;
  /** Operations endpoints answered without a token. */
  readonly openOps: ReadonlySet<OpsEndpoint>;
  /** Failed authentications per peer address before it is refused for a while; absent = off. */
  readonly failureLimits?: FailureLimits;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Client certificates are required and must chain to this CA (mTLS). */
  readonly clientCaFile?: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type Fail = (variable: string, message: string) => Error;

const OPS: readonly OpsEndpoint[] = ['metrics', 'healthz', 'readyz'];
export const DEFAULT_CLOCK_SKEW_S = 30;

/** 127.0.0.0/8, ::1 and `localhost`: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

function issuers(env: Env, fail: Fail): IssuerConfig[] {
  const numbers = Object.keys(env)
    .map((k) => /^AUTH_ISSUER_(\d+)$/.exec(k)?.[1])
    .filter((n): n is string => n !== undefined && (env[`AUTH_ISSUER_${n}`]?.trim() ?? '') !== '')
    .sort((a, b) => Number(a) - Number(b));
  for (const k of Object.keys(env)) {
    const n = /^AUTH_ISSUER_(\d+)_(JWKS_URL|KEY_FILES)$/.exec(k)?.[1];
    if (n && !numbers.includes(n) && env[k]?.trim())
      throw fail(`AUTH_ISSUER_${n}`, `required when ${k} is set (the issuer's 'iss')`);
  }
  return numbers.map((n) => {
    const name = `AUTH_ISSUER_${n}`;
    const issuer = (env[name] as string).trim();
    const jwks = env[`${name}_JWKS_URL`]?.trim();
    const files = (env[`${name}_KEY_FILES`] ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    if (jwks && files.length > 0) throw fail(name, `give ${name}_JWKS_URL or ${name}_KEY_FILES, not both`);
    if (!jwks && files.length === 0)
      throw fail(name, `needs ${name}_JWKS_URL or ${name}_KEY_FILES (public keys)`);
    if (jwks) {
      let url: URL;
      try {
        url = new URL(jwks);
      } catch {
        throw fail(`${name}_JWKS_URL`, `'${jwks}' is not a URL`);
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
        throw fail(`${name}_JWKS_URL`, `'${jwks}' must be https:// (http:// only on loopback)`);
      return { issuer, jwksUrl: jwks };
    }
    return { issuer, keyFiles: files };
  });
}

function clockSkew(env: Env, fail: Fail): number {
  const raw = env.AUTH_CLOCK_SKEW_S?.trim();
  if (!raw) return DEFAULT_CLOCK_SKEW_S;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_CLOCK_SKEW_S)
    throw fail(
      'AUTH_CLOCK_SKEW_S',
      `'${raw}' is not a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_S}`,
    );
  return n;
}

function openOps(env: Env, loopback: boolean, fail: Fail): Set<OpsEndpoint> {
  const raw = env.OPS_OPEN?.trim();
  if (!raw) return new Set(loopback ? OPS : []);
  if (raw === 'all') return new Set(OPS);
  if (raw === 'none') return new Set();
  const items = raw.split(',').map((s) => s.trim().replace(/^\//, ''));
  for (const i of items)
    if (!(OPS as readonly string[]).includes(i))
      throw fail('OPS_OPEN', `'${i}' is not one of ${OPS.join(', ')} (or 'all' / 'none')`);
  return new Set(items as OpsEndpoint[]);
}

/** AUTH_FAILURE_BURST (0 = off) and AUTH_FAILURE_WINDOW_S: see ./failure-limiter.ts. */
function failureLimits(env: Env, fail: Fail): FailureLimits | undefined {
  const whole = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw fail(name, `'${raw}' is not a whole number >= ${min}`);
    return n;
  };
  const burst = whole('AUTH_FAILURE_BURST', DEFAULT_FAILURE_LIMITS.burst, 0);
  if (burst === 0) return undefined;
  const windowS = whole('AUTH_FAILURE_WINDOW_S', DEFAULT_FAILURE_LIMITS.windowMs / 1000, 1);
  return { ...DEFAULT_FAILURE_LIMITS, burst, windowMs: windowS * 1000 };
}

function onOff(env: Env, name: string, fail: Fail): boolean | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw fail(name, `'${raw}' is not 1/true or 0/false`);
}

export function tlsFiles(env: Env, fail: Fail): TlsFiles | undefined {
  const certFile = env.INGEST_TLS_CERT_FILE?.trim();
  const keyFile = env.INGEST_TLS_KEY_FILE?.trim();
  const clientCaFile = env.INGEST_TLS_CLIENT_CA_FILE?.trim();
  if (!certFile && !keyFile) {
    if (clientCaFile)
      throw fail('INGEST_TLS_CLIENT_CA_FILE', 'needs INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE');
    return undefined;
  }
  if (!certFile) throw fail('INGEST_TLS_CERT_FILE', 'required when INGEST_TLS_KEY_FILE is set');
  if (!keyFile) throw fail('INGEST_TLS_KEY_FILE', 'required when INGEST_TLS_CERT_FILE is set');
  return { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) };
}

export function loadAuthConfig(env: Env, host: string, tls: TlsFiles | undefined, fail: Fail): AuthConfig {
  const loopback = isLoopback(host);
  const configured = issuers(env, fail);
  const local = onOff(env, 'AUTH_LOCAL_ISSUER', fail) ?? loopback;
  if (!loopback) {
    if (configured.length === 0 && !local)
      throw fail(
        'AUTH_ISSUER_1',
        `INGEST_HOST=${host} is not loopback, so every call must be authenticated: configure a token issuer (AUTH_ISSUER_1 with AUTH_ISSUER_1_JWKS_URL or AUTH_ISSUER_1_KEY_FILES; README "Security")`,
      );
    if (!tls && onOff(env, 'INGEST_ALLOW_PLAINTEXT', fail) !== true)
      throw fail(
        'INGEST_TLS_CERT_FILE',
        `INGEST_HOST=${host} is not loopback, so bearer tokens would cross the network in clear: set INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE (or INGEST_ALLOW_PLAINTEXT=1 behind a TLS-terminating proxy)`,
      );
  }
  const limits = failureLimits(env, fail);
  return {
    audience: env.AUTH_AUDIENCE?.trim() || DEFAULT_AUDIENCE,
    clockSkewS: clockSkew(env, fail),
    issuers: configured,
    ...(local
      ? {
          localIssuerKeyFile:
            env.AUTH_LOCAL_ISSUER_KEY_FILE?.trim() || join(stateDir(env), 'local-issuer.pem'),
        }
      : {}),
    openOps: openOps(env, loopback, fail),
    ...(limits ? { failureLimits: limits } : {}),
  };
}
