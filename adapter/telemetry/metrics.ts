import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsConfig {
  /** Prefix for every metric name; keeps ours apart when scraped next to other jobs. */
  readonly prefix?: string;
  /** Process metrics (CPU, heap, event-loop lag) — on for the service, off in most tests. */
  readonly defaultMetrics?: boolean;
}

/**
 * A registry of the project's own. The global prom-client registry is shared by every library in the
 * process; owning ours means two adapters in one test process never collide on metric names and a
 * scrape shows only what we registered. Metric families are added by the components that own them.
 */
export function createMetricsRegistry(config: MetricsConfig = {}): Registry {
  const registry = new Registry();
  if (config.defaultMetrics) {
    collectDefaultMetrics({ register: registry, prefix: config.prefix ?? 'spacetime_sync_' });
  }
  return registry;
}

export { Registry };
