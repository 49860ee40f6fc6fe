/**
 * The Kafka source's lifecycle as one machine: a tagged-union state and one transition function.
 * Every step of KafkaSource asks the machine first and re-asks after each `await`, so a `stop()`
 * that lands while the watchdog restarts the consumer wins (the restart is refused, and a consumer
 * that came up meanwhile is disconnected), and a crashed consumer is reported, not ready, and
 * restarted by the watchdog.
 */

/** What a running consumer is doing, for operators. */
export type Activity = 'connecting' | 'consuming' | 'rebalancing' | 'paused';

export type SourceState =
  | { readonly kind: 'idle' }
  /** `activity`: what the new consumer reported before it was up (kafkajs joins inside `run`). */
  | { readonly kind: 'starting'; readonly activity?: Activity }
  | { readonly kind: 'running'; readonly activity: Activity }
  /** The watchdog is replacing the consumer (it stalled, or it crashed for good). */
  | { readonly kind: 'restarting'; readonly why: string; readonly activity?: Activity }
  /** kafkajs gave up on the consumer; the watchdog restarts it. */
  | { readonly kind: 'crashed'; readonly error: string }
  | { readonly kind: 'stopping' }
  | { readonly kind: 'stopped' };

export type SourceEvent =
  | { readonly type: 'start' }
  /** A consumer is connected, subscribed and running. */
  | { readonly type: 'started' }
  | { readonly type: 'activity'; readonly activity: Activity }
  /** kafkajs reported a crash; `retrying`: kafkajs restarts the consumer itself. */
  | { readonly type: 'crash'; readonly error: string; readonly retrying: boolean }
  | { readonly type: 'restart'; readonly why: string }
  | { readonly type: 'stop' }
  | { readonly type: 'stopped' };

/** The next state, or undefined when the event is refused in this state. */
export function transition(s: SourceState, e: SourceEvent): SourceState | undefined {
  switch (e.type) {
    case 'start':
      return s.kind === 'idle' ? { kind: 'starting' } : undefined;
    case 'started':
      return s.kind === 'starting' || s.kind === 'restarting'
        ? { kind: 'running', activity: s.activity ?? 'connecting' }
        : undefined;
    case 'activity':
      if (s.kind === 'starting' || s.kind === 'restarting') return { ...s, activity: e.activity };
      return s.kind === 'running' ? { kind: 'running', activity: e.activity } : undefined;
    case 'crash':
      if (s.kind !== 'starting' && s.kind !== 'running' && s.kind !== 'restarting') return undefined;
      if (!e.retrying) return { kind: 'crashed', error: e.error };
      // kafkajs restarts this same consumer: a consumer still coming up stays coming up, so the
      // `started` that follows its `run()` is accepted (moving to running here made start() refuse
      // it and disconnect the consumer kafkajs was restarting, leaving a ready-looking adapter idle).
      return s.kind === 'running'
        ? { kind: 'running', activity: 'connecting' }
        : { ...s, activity: 'connecting' };
    case 'restart':
      return s.kind === 'running' || s.kind === 'crashed' ? { kind: 'restarting', why: e.why } : undefined;
    case 'stop':
      if (s.kind === 'idle') return { kind: 'stopped' };
      return s.kind === 'stopping' || s.kind === 'stopped' ? undefined : { kind: 'stopping' };
    case 'stopped':
      return s.kind === 'stopping' ? { kind: 'stopped' } : undefined;
  }
}

/** The state operators see (AdminService, `status`). */
export type KafkaSourceState = 'connecting' | 'consuming' | 'rebalancing' | 'paused' | 'crashed' | 'stopped';

export function reported(s: SourceState): KafkaSourceState {
  switch (s.kind) {
    case 'running':
      return s.activity;
    case 'crashed':
      return 'crashed';
    case 'stopping':
    case 'stopped':
      return 'stopped';
    default:
      return 'connecting';
  }
}

/** Ready for /readyz: a consumer is running (paused by backpressure or rebalancing included). */
export const isReady = (s: SourceState): boolean => s.kind === 'running';
