/**
 * The delivery probe's lifecycle (./delivery-probe.ts) as a tagged union with one pure transition
 * function. The probe's subscriber connection is numbered per socket like the writer's
 * (./writer-machine.ts): a callback of an earlier socket changes nothing. Probes fire only while
 * `watching`; `configured` remembers that the probe stream's retention was set, across reconnects.
 */

export type ProbeState =
  | { readonly kind: 'idle' }
  /** The subscriber socket is opening and subscribing to the probe stream. */
  | { readonly kind: 'connecting'; readonly socket: number; readonly configured: boolean }
  /** Subscribed: each interval appends a probe event and times its arrival here. */
  | { readonly kind: 'watching'; readonly socket: number; readonly configured: boolean }
  /** The subscriber socket dropped; a new one opens after a short wait. */
  | { readonly kind: 'waiting'; readonly socket: number; readonly configured: boolean }
  | { readonly kind: 'stopped' };

export type ProbeKind = ProbeState['kind'];

export type ProbeEvent =
  | { readonly type: 'start' }
  | { readonly type: 'subscribed'; readonly socket: number }
  | { readonly type: 'socket_lost'; readonly socket: number }
  | { readonly type: 'retry_due'; readonly socket: number }
  /** The probe stream's retention is set (configure_stream answered). */
  | { readonly type: 'configured' }
  | { readonly type: 'stop' };

export type ProbeEffect =
  | { readonly type: 'open_socket'; readonly socket: number }
  | { readonly type: 'start_ticks' }
  | { readonly type: 'drop_socket' }
  | { readonly type: 'schedule_reconnect'; readonly socket: number }
  /** Stops the interval and the reconnect timer and forgets probes in flight. */
  | { readonly type: 'stop_all' };

export interface ProbeTransition {
  readonly state: ProbeState;
  readonly effects: readonly ProbeEffect[];
}

export function transitionProbe(s: ProbeState, e: ProbeEvent): ProbeTransition {
  const stay: ProbeTransition = { state: s, effects: [] };
  if (s.kind === 'stopped') return stay;
  switch (e.type) {
    case 'start':
      if (s.kind !== 'idle') return stay;
      return {
        state: { kind: 'connecting', socket: 1, configured: false },
        effects: [{ type: 'open_socket', socket: 1 }, { type: 'start_ticks' }],
      };
    case 'stop':
      return { state: { kind: 'stopped' }, effects: [{ type: 'stop_all' }, { type: 'drop_socket' }] };
    case 'configured':
      // The setting lives in the database: it holds whatever the connection did meanwhile.
      return s.kind === 'idle' || s.configured ? stay : { state: { ...s, configured: true }, effects: [] };
  }
  if (s.kind === 'idle' || s.socket !== e.socket) return stay;
  switch (e.type) {
    case 'subscribed':
      if (s.kind !== 'connecting') return stay;
      return { state: { ...s, kind: 'watching' }, effects: [] };
    case 'socket_lost':
      if (s.kind === 'waiting') return stay;
      return {
        state: { ...s, kind: 'waiting' },
        effects: [{ type: 'drop_socket' }, { type: 'schedule_reconnect', socket: s.socket }],
      };
    case 'retry_due':
      if (s.kind !== 'waiting') return stay;
      return {
        state: { kind: 'connecting', socket: s.socket + 1, configured: s.configured },
        effects: [{ type: 'open_socket', socket: s.socket + 1 }],
      };
  }
}
