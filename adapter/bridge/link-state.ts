/**
 * The lifecycle of one relay connection as a tagged union and one transition function. Every socket
 * callback and timer goes through `nextLinkState`; the link acts on the state it returns, so a late
 * callback from a socket the link already gave up on can't reopen or close the wrong one.
 *
 *   idle ──start──► connecting ──opened──► open
 *                      │  ▲                  │
 *                 failed  retry          failed (closed, no OK in time)
 *                      ▼  │                  │
 *                    backoff ◄───────────────┘      any ──stop──► stopped
 */
export type LinkState =
  | { readonly tag: 'idle' }
  | { readonly tag: 'connecting'; readonly attempt: number }
  | { readonly tag: 'open'; readonly since: number }
  | { readonly tag: 'backoff'; readonly attempt: number; readonly retryAt: number; readonly why: string }
  | { readonly tag: 'stopped' };

export type LinkEvent =
  | { readonly type: 'start' }
  | { readonly type: 'opened'; readonly now: number }
  /** The socket failed to open or dropped; `delayMs` is the jittered backoff drawn by the caller. */
  | { readonly type: 'failed'; readonly why: string; readonly now: number; readonly delayMs: number }
  | { readonly type: 'retry' }
  | { readonly type: 'stop' };

export function nextLinkState(state: LinkState, event: LinkEvent): LinkState {
  if (state.tag === 'stopped') return state;
  switch (event.type) {
    case 'stop':
      return { tag: 'stopped' };
    case 'start':
      return state.tag === 'idle' ? { tag: 'connecting', attempt: 0 } : state;
    case 'opened':
      return state.tag === 'connecting' ? { tag: 'open', since: event.now } : state;
    case 'failed': {
      if (state.tag !== 'connecting' && state.tag !== 'open') return state;
      // A link that was open starts its backoff afresh; one that keeps failing to connect backs off further.
      const attempt = state.tag === 'connecting' ? state.attempt + 1 : 1;
      return { tag: 'backoff', attempt, retryAt: event.now + event.delayMs, why: event.why };
    }
    case 'retry':
      return state.tag === 'backoff' ? { tag: 'connecting', attempt: state.attempt } : state;
  }
}
