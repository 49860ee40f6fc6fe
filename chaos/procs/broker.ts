/**
 * The Kafka broker a chaos run owns: scripts/kafka.sh in a data dir of its own, restarted with its
 * data kept, or frozen (SIGSTOP: connections stay open, nothing answers) to be unreachable for a while.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/kafka.sh', import.meta.url).pathname;

export class Broker {
  private constructor(
    readonly dataDir: string,
    readonly brokers: string,
  ) {}

  /** `minSessionMs`: the broker's group.min.session.timeout.ms (Kafka's default 6000 when absent). */
  static async start(dataDir: string, minSessionMs?: number): Promise<Broker> {
    const { stdout } = await run('bash', [SCRIPT, 'start', '--data', dataDir], {
      timeout: 180_000,
      env: {
        ...process.env,
        ...(minSessionMs ? { KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS: String(minSessionMs) } : {}),
      },
    });
    const brokers = /KAFKA_BROKERS=(\S+)/.exec(stdout)?.[1];
    if (!brokers) throw new Error(`scripts/kafka.sh start printed no KAFKA_BROKERS:\n${stdout}`);
    return new Broker(dataDir, brokers);
  }

  /** Stop (SIGTERM) and start again on the same port, keeping topics, offsets and groups. */
  async restart(): Promise<void> {
    await run('bash', [SCRIPT, 'restart', '--data', this.dataDir], { timeout: 180_000 });
  }

  private async pid(): Promise<number> {
    return Number((await readFile(join(this.dataDir, 'broker.pid'), 'utf8')).trim());
  }

  /** Unreachable: the process is frozen; clients time out instead of being refused. */
  async freeze(): Promise<void> {
    process.kill(await this.pid(), 'SIGSTOP');
  }

  async thaw(): Promise<void> {
    process.kill(await this.pid(), 'SIGCONT');
  }

  async stop(): Promise<void> {
    await this.thaw().catch(() => {});
    await run('bash', [SCRIPT, 'stop', '--data', this.dataDir], { timeout: 60_000 });
  }
}
