/**
 * Chaos long-run finding (run of 7fa2405, round 70): an adapter restarted during a devhost crash
 * passed the start's wait for the cutover state, then SpacetimeDB went away again before the last
 * start step, and `controller.start()` threw "the cutover state is not loaded (SpacetimeDB link
 * down)": the whole start ended with exit 1. The controller now starts anyway and its ticks read the
 * stage once the store is back. A real CutoverStore whose SpacetimeDB address refuses connections.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/logger.js';
import { createMetricsRegistry } from '../telemetry/metrics.js';
import { cutoverConfig } from './config.js';
import { CutoverController } from './controller.js';
import { CutoverStore } from './store.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('the cutover controller at the end of the start', () => {
  it('starts while SpacetimeDB is away instead of failing the start', async () => {
    const store = CutoverStore.connecting({
      uri: `ws://127.0.0.1:${await closedPort()}`,
      database: 'sync',
      logger: createLogger({ level: 'silent' }),
    });
    cleanups.push(() => store.close());
    const controller = new CutoverController({
      store,
      registry: createMetricsRegistry(),
      config: cutoverConfig({}, (v, m) => new Error(`${v}: ${m}`)),
      logger: createLogger({ level: 'silent' }),
      kafkaRunning: () => false,
    });
    cleanups.push(() => controller.stop());
    await expect(controller.start()).resolves.toBeUndefined();
    // Running: a stop works and a second start is a no-op, not a second timer.
    await expect(controller.start()).resolves.toBeUndefined();
  });
});
