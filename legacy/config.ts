/**
 * The legacy lane's settings from the environment, validated once. Shared by `spacetime-sync
 * legacy-lane` and by `npm start` with LEGACY_LANE=1. A bad value is a LaneConfigError naming the variable.
 */
import { DEFAULT_EXPECTED_CLAIMS, type ExpectedClaims } from './auth/claims.js';
import { type Keyring, KeyringError, keyringFromEnv } from './auth/keyring.js';
import { GEN1_TOPICS } from './protocol/topic-policy.js';

export class LaneConfigError extends Error {
  override readonly name = 'LaneConfigError';
}

export interface LaneEnvConfig {
  readonly keyring: Keyring;
  readonly servedTopics: readonly string[];
  readonly expectedClaims: ExpectedClaims;
  readonly dataDir: string;
  /** The lane's own consumer group when it reads Kafka. */
  readonly groupId: string;
}

export const DEFAULT_DATA_DIR = 'legacy-lane-data';

type Env = Readonly<Record<string, string | undefined>>;

function list(raw: string | undefined): string[] | undefined {
  const items = raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

/** Port from `LEGACY_LANE_PORT` (0 = any free port). */
export function lanePort(raw: string | undefined, name = 'LEGACY_LANE_PORT'): number {
  if (raw === undefined || raw.trim() === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new LaneConfigError(`${name}: '${raw}' is not a port (0-65535; 0 picks a free one)`);
  return n;
}

export function laneConfigFromEnv(env: Env = process.env, dataDir?: string): LaneEnvConfig {
  let keyring: Keyring | undefined;
  try {
    keyring = keyringFromEnv(env as NodeJS.ProcessEnv);
  } catch (e) {
    if (e instanceof KeyringError) throw new LaneConfigError(e.message);
    throw e;
  }
  if (!keyring) {
    throw new LaneConfigError(
      'LEGACY_LANE_HS256_KEYS (kid=secret,…; the first signs) or LEGACY_LANE_HS256_KEYS_FILE must be set: every socket needs a signed token',
    );
  }
  return {
    keyring,
    servedTopics: list(env.LEGACY_LANE_TOPICS) ?? GEN1_TOPICS,
    expectedClaims: {
      issuer: env.LEGACY_LANE_ISSUER?.trim() || DEFAULT_EXPECTED_CLAIMS.issuer,
      audience: env.LEGACY_LANE_AUDIENCE?.trim() || DEFAULT_EXPECTED_CLAIMS.audience,
      claimsVersion: DEFAULT_EXPECTED_CLAIMS.claimsVersion,
    },
    dataDir: dataDir ?? (env.LEGACY_LANE_DATA_DIR?.trim() || DEFAULT_DATA_DIR),
    groupId: env.LEGACY_LANE_GROUP_ID?.trim() || 'spacetime-sync-legacy-lane',
  };
}
