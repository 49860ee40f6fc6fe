/**
 * Test-only: the situation the consumer-lag and spacetimedb-restarted runbooks start from. Devhost
 * runs on a data dir and a fixed port (so it can come back as the same SpacetimeDB), a runbook stack
 * writes to it, three events of `stream` are appended, then devhost stops and the service sees it
 * gone. The test publishes what arrives meanwhile and brings devhost back with `restartDevhost`.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devhost } from '@spacetime-sync/devhost';
import { expect } from 'vitest';
import type { KafkaConfig } from '../../../adapter/config.js';
import { tokenFileEnv } from '../../support/auth.js';
import { startSyncDevhost } from '../../support/devhost-harness.js';
import { freePort } from '../../support/free-port.js';
import { type RunbookStack, runbookStack } from './stack.js';

export interface SpacetimedbOutage {
  readonly stack: RunbookStack;
  /** An operator's token file, as the runbooks' CLI steps read it. */
  readonly operator: { SPACETIME_SYNC_TOKEN_FILE: string };
  /** Starts devhost again on its data dir and port. */
  restartDevhost(): Promise<void>;
  /** Stops the service, then devhost. */
  close(): Promise<void>;
}

export async function spacetimedbOutage(o: {
  /** The stream the three events before the outage go to. */
  readonly stream: string;
  readonly kafka: Partial<KafkaConfig>;
}): Promise<SpacetimedbOutage> {
  const dataDir = await mkdtemp(join(tmpdir(), 'runbook-outage-'));
  const port = await freePort();
  let devhost: Devhost = await startSyncDevhost(dataDir, port);
  let stack: RunbookStack | undefined;
  const close = async () => {
    await stack?.service.stop();
    await devhost.stop();
  };
  try {
    stack = await runbookStack({ devhost, token: devhost.ownerToken, kafka: o.kafka });
    const service = stack.service;
    await stack.produce(o.stream, 3);
    await expect.poll(() => service.writer.streams().get(o.stream)?.head, { timeout: 30_000 }).toBe(3n);
    await devhost.stop();
    await expect.poll(() => service.writer.isConnected, { timeout: 30_000 }).toBe(false);
    return {
      stack,
      operator: await tokenFileEnv({ roles: ['operator'] }),
      restartDevhost: async () => {
        devhost = await startSyncDevhost(dataDir, port);
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
