/**
 * The service's own lifecycle (./service.ts) as a tagged union with one pure transition function:
 * starting → running → stopping → stopped. A stop requested while starting (SIGTERM while waiting
 * for Kafka topics) moves to `stopping`; the start sees that after its next await and stops what it
 * had started. Readiness (/readyz) is derived here too: only a running service can be ready.
 */

export type ServiceState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'running' }
  /** `during`: the stop came while starting (the start ends with StartAborted). */
  | { readonly kind: 'stopping'; readonly duringStart: boolean }
  | { readonly kind: 'stopped' };

export type ServiceKind = ServiceState['kind'];

export type ServiceEvent =
  /** Every part is up. */
  | { readonly type: 'started' }
  /** stop(), the start's abort signal, or a part that failed to start. */
  | { readonly type: 'stop' }
  /** Every part that had started is stopped. */
  | { readonly type: 'stopped' };

/** The next state, or undefined when the event is refused in this state. */
export function transitionService(s: ServiceState, e: ServiceEvent): ServiceState | undefined {
  switch (e.type) {
    case 'started':
      return s.kind === 'starting' ? { kind: 'running' } : undefined;
    case 'stop':
      if (s.kind === 'starting') return { kind: 'stopping', duringStart: true };
      return s.kind === 'running' ? { kind: 'stopping', duringStart: false } : undefined;
    case 'stopped':
      return s.kind === 'stopping' ? { kind: 'stopped' } : undefined;
  }
}

/** What /readyz needs to know of the parts. */
export interface PartsReadiness {
  readonly spacetimeConnected: boolean;
  /** Why the last SpacetimeDB connection attempt failed (shown while it is not connected). */
  readonly spacetimeProblem?: string;
  /** Shards whose writer is not connected (sharded deployments): /readyz names them. */
  readonly shardsDown?: readonly string[];
  /** Why the embedded devhost cannot commit right now (e.g. its commit log is out of space); empty when it can. */
  readonly commitProblems?: readonly string[];
  /** Undefined when no Kafka source is configured; else whether its consumer runs and why not. */
  readonly kafka?: { readonly ready: boolean; readonly state: string };
}

/** /readyz: ready only while running with SpacetimeDB connected and, when configured, a consumer running. */
export function readiness(s: ServiceState, parts: PartsReadiness): { ok: boolean; why?: string } {
  if (s.kind === 'starting' && !parts.spacetimeConnected) {
    // An adapter started during a SpacetimeDB outage waits it out; say what it is waiting for.
    const problem = parts.spacetimeProblem ? ` (${parts.spacetimeProblem}; retrying)` : '';
    return { ok: false, why: `service starting: SpacetimeDB not connected${problem}` };
  }
  if (s.kind !== 'running') return { ok: false, why: `service ${s.kind}` };
  // Nothing can be written while the embedded devhost cannot commit.
  if (parts.commitProblems && parts.commitProblems.length > 0)
    return { ok: false, why: `SpacetimeDB cannot commit: ${parts.commitProblems.join('; ')}` };
  // Not ready while a shard is down (its streams' Connect publishes fail), named; the Kafka consumer
  // keeps applying the other shards' events meanwhile (kafka/batch-loop.ts).
  if (parts.shardsDown && parts.shardsDown.length > 0)
    return { ok: false, why: `SpacetimeDB shard not connected: ${parts.shardsDown.join(', ')}` };
  if (!parts.spacetimeConnected) return { ok: false, why: 'SpacetimeDB not connected' };
  // Not ready while the consumer starts, restarts or crashed (the watchdog restarts it).
  if (parts.kafka && !parts.kafka.ready) return { ok: false, why: `Kafka consumer ${parts.kafka.state}` };
  return { ok: true };
}
