/**
 * Start step 9, shadow parity (../../parity/shadow/), only when on, loaded lazily. It runs a desktop
 * client (SyncClient) and a legacy-lane client on purpose: shadow parity measures what a resuming
 * client of each lane receives. Its legacy client is also the cutover's link to the legacy lane.
 */

import type { Logger } from 'pino';
import type { ParityShadow } from '../../parity/shadow/shadow.js';
import type { ServiceConfig } from '../config.js';
import type { ServiceLifecycle } from '../service-lifecycle.js';
import type { ShardSet } from '../shards/shard-set.js';
import { PROBE_STREAM } from '../spacetime/delivery-probe.js';
import type { SpacetimeWriter } from '../spacetime/writer.js';
import type { Registry } from '../telemetry/metrics.js';

export async function startParityShadow(deps: {
  readonly parityShadow: NonNullable<ServiceConfig['parityShadow']>;
  readonly shards: ShardSet;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly life: ServiceLifecycle;
}): Promise<ParityShadow> {
  const { shards, life } = deps;
  const { uri, database, token } = shards.primary;
  const { ParityShadow } = await import('../../parity/shadow/shadow.js');
  await life.checkpoint();
  const s = new ParityShadow({
    config: deps.parityShadow,
    candidate: {
      uri,
      database,
      ...(token ? { token } : {}),
      // Sharded: each stream is read from its shard, as a desktop client would (the one routing function).
      ...(shards.all().length > 1
        ? {
            shards: shards.all().map((s) => ({
              name: s.name,
              uri: s.uri,
              database: s.database,
              ...(s.token ? { token: s.token } : {}),
            })),
          }
        : {}),
      // The shadow reads as the writer identity, which reads what it grants itself (on each stream's shard).
      grant: async (streams) => {
        const byShard = new Map<SpacetimeWriter, string[]>();
        for (const id of streams) {
          const w = shards.of(id).writer;
          byShard.set(w, [...(byShard.get(w) ?? []), id]);
        }
        for (const [w, ids] of byShard) await w.grantSelfRead(ids);
      },
    },
    // The delivery probe's stream is the service's own, not an authority stream: the legacy lane
    // never carries it, and comparing it would count it as unmappable (a parity breach).
    streams: () => [...shards.streams().keys()].filter((s) => s !== PROBE_STREAM),
    registry: deps.registry,
    logger: deps.logger.child({ subsystem: 'parity-shadow' }),
  });
  await s.start().catch(life.failed);
  life.started(() => s.stop());
  await life.checkpoint();
  return s;
}
