/**
 * The reference legacy lane as its own process (`spacetime-sync legacy-lane --data DIR --port N`),
 * fed from the chaos authority topic by its own consumer group, as the dual-stack deployment runs it:
 * killed with -9 and restarted on the same journal and port. The keyring goes in its environment.
 */
import { randomBytes } from 'node:crypto';
import { parseKeyring } from '../../legacy/auth/keyring.js';
import { mintToken } from '../../legacy/auth/tokens.js';
import { cleanEnv, type Proc, startProc } from './child.js';
import { BIN } from './devhost-proc.js';

export interface LegacySettings {
  readonly dataDir: string;
  readonly brokers: string;
  readonly topic: string;
  /** Legacy topics the lane serves (the authority topics of the streams in parity). */
  readonly servedTopics: readonly string[];
}

export class LegacyLaneProc {
  private readonly keys = `chaos=${randomBytes(24).toString('hex')}`;
  private readonly keyring = parseKeyring(this.keys, 'chaos legacy keyring');
  proc: Proc | undefined;
  port = 0;

  constructor(readonly s: LegacySettings) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}/socket/websocket`;
  }

  /** (Re)starts the lane on its journal (and, after the first start, on its port) and waits until it listens. */
  async start(): Promise<void> {
    const p = startProc(
      'legacy-lane',
      process.execPath,
      [BIN, 'legacy-lane', '--data', this.s.dataDir, '--port', String(this.port)],
      cleanEnv({
        LEGACY_LANE_HS256_KEYS: this.keys,
        LEGACY_LANE_TOPICS: this.s.servedTopics.join(','),
        LEGACY_LANE_GROUP_ID: 'chaos-legacy-lane',
        KAFKA_BROKERS: this.s.brokers,
        KAFKA_TOPICS: this.s.topic,
        LOG_LEVEL: 'warn',
      }),
    );
    this.proc = p;
    const m = await p.waitFor(/legacy lane listening on ws:\/\/[\d.]+:(\d+)/, 120_000);
    this.port = Number(m[1]);
  }

  /** A token for the lane's topics (minted here: the keyring never leaves the run's processes' environments). */
  token(): Promise<string> {
    return mintToken(this.keyring, { topics: [...this.s.servedTopics], ttlSeconds: 24 * 3600 });
  }
}
