/**
 * Vitest global setup of the `kafka` project: a real broker for the whole run. With KAFKA_BROKERS set,
 * the tests use that cluster and nothing is started; otherwise scripts/kafka.sh installs (cached) and
 * starts a single-node KRaft broker on loopback in a fresh data dir, stopped again at the end.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/kafka.sh', import.meta.url).pathname;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.KAFKA_BROKERS?.trim();
  if (existing) {
    project.provide('kafkaBrokers', existing);
    return async () => {};
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'spacetime-sync-kafka-'));
  const { stdout } = await run('bash', [SCRIPT, 'start', '--data', dataDir], { timeout: 180_000 });
  const brokers = /KAFKA_BROKERS=(\S+)/.exec(stdout)?.[1];
  if (!brokers) throw new Error(`scripts/kafka.sh start printed no KAFKA_BROKERS:\n${stdout}`);
  project.provide('kafkaBrokers', brokers);
  return async () => {
    await run('bash', [SCRIPT, 'stop', '--data', dataDir], { timeout: 30_000 });
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}
