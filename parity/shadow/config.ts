/**
 * Shadow mode's settings, read with the service's configuration (adapter/config.ts): off unless
 * `PARITY_SHADOW=1`; then the legacy lane's URL and a token (environment or file) are required.
 */
import { readFileSync } from 'node:fs';

export const GEN1_TOPICS: readonly string[] = [
  'runtime.run_summaries',
  'runtime.codex_worker_summaries',
  'runtime.codex_worker_events',
  'runtime.notifications',
];

export interface ShadowConfig {
  readonly legacyUrl: string;
  /** Read again before each connect, so a token file that is refreshed is picked up. */
  readonly legacyToken: () => string;
  readonly topics: readonly string[];
  /** Fraction of streams compared (0 < rate <= 1), chosen by a hash of the stream id. */
  readonly sampleRate: number;
  /** How long the other lane has to deliver before a one-sided event counts as a divergence. */
  readonly graceMs: number;
  /** How often the shadow classifies and exports. */
  readonly tickMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The service's ConfigError (adapter/config.ts), passed in so this file does not import the service. */
type Fail = (variable: string, message: string) => Error;

function fraction(env: Env, name: string, fallback: number, fail: Fail): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw fail(name, `'${raw}' is not a fraction in (0, 1]`);
  return n;
}

function millis(env: Env, name: string, fallback: number, fail: Fail): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100) throw fail(name, `'${raw}' is not a whole number of ms >= 100`);
  return n;
}

function tokenSource(env: Env, fail: Fail): () => string {
  const file = env.LEGACY_LANE_TOKEN_FILE?.trim();
  if (file) {
    const read = () => {
      try {
        const t = readFileSync(file, 'utf8').trim();
        if (t) return t;
      } catch (e) {
        throw fail('LEGACY_LANE_TOKEN_FILE', `cannot read ${file}: ${(e as Error).message}`);
      }
      throw fail('LEGACY_LANE_TOKEN_FILE', `${file} is empty`);
    };
    read(); // refuse at start, not at the first connect
    return read;
  }
  const token = env.LEGACY_LANE_TOKEN?.trim();
  if (!token) throw fail('LEGACY_LANE_TOKEN', 'required with PARITY_SHADOW=1 (or LEGACY_LANE_TOKEN_FILE)');
  return () => token;
}

/** undefined when shadow mode is off. */
export function shadowConfig(env: Env, fail: Fail): ShadowConfig | undefined {
  const on = env.PARITY_SHADOW?.trim();
  if (!on || on === '0') return undefined;
  if (on !== '1') throw fail('PARITY_SHADOW', `'${on}' is not 0 or 1`);
  const url = env.PARITY_LEGACY_URL?.trim();
  if (!url) throw fail('PARITY_LEGACY_URL', 'required with PARITY_SHADOW=1 (ws://…/socket/websocket)');
  if (!/^wss?:\/\/[^/\s]+/.test(url))
    throw fail('PARITY_LEGACY_URL', `'${url}' is not a ws:// or wss:// URL`);
  if (new URL(url).searchParams.has('token')) {
    throw fail('PARITY_LEGACY_URL', 'the token goes in LEGACY_LANE_TOKEN(_FILE), not in the URL');
  }
  const topics = env.PARITY_SHADOW_TOPICS?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    legacyUrl: url,
    legacyToken: tokenSource(env, fail),
    topics: topics?.length ? topics : GEN1_TOPICS,
    sampleRate: fraction(env, 'PARITY_SHADOW_SAMPLE', 0.1, fail),
    graceMs: millis(env, 'PARITY_SHADOW_GRACE_MS', 30_000, fail),
    tickMs: millis(env, 'PARITY_SHADOW_TICK_MS', 5_000, fail),
  };
}
