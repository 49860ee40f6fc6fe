/**
 * The lifecycle of the worker's SpacetimeDB connection as a tagged union and one transition function:
 * the worker acts only on what `nextOutboxState` returns, and every callback names the connection it
 * came from, so a late callback of a dropped connection can't revive or kill the current one.
 *
 *   connecting ──subscribed──► live ──lost──► backoff ──retry──► connecting      any ──stop──► stopped
 *        └──────────lost────────────────────────┘
 */
export type OutboxState =
  | { readonly tag: 'connecting'; readonly generation: number; readonly attempt: number }
  | { readonly tag: 'live'; readonly generation: number }
  | { readonly tag: 'backoff'; readonly generation: number; readonly attempt: number; readonly why: string }
  | { readonly tag: 'stopped' };

export type OutboxEvent =
  | { readonly type: 'subscribed'; readonly generation: number }
  | { readonly type: 'lost'; readonly generation: number; readonly why: string }
  | { readonly type: 'retry' }
  | { readonly type: 'stop' };

export const INITIAL_OUTBOX_STATE: OutboxState = { tag: 'connecting', generation: 1, attempt: 0 };

export function nextOutboxState(state: OutboxState, event: OutboxEvent): OutboxState {
  if (state.tag === 'stopped') return state;
  switch (event.type) {
    case 'stop':
      return { tag: 'stopped' };
    case 'subscribed':
      return state.tag === 'connecting' && state.generation === event.generation
        ? { tag: 'live', generation: state.generation }
        : state;
    case 'lost': {
      if (state.tag === 'backoff' || state.generation !== event.generation) return state;
      const attempt = state.tag === 'connecting' ? state.attempt + 1 : 1;
      return { tag: 'backoff', generation: state.generation, attempt, why: event.why };
    }
    case 'retry':
      return state.tag === 'backoff'
        ? { tag: 'connecting', generation: state.generation + 1, attempt: state.attempt }
        : state;
  }
}
