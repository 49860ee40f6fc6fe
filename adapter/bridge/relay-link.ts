/**
 * One relay connection speaking NIP-01's publish half: `["EVENT", e]` out, `["OK", id, accepted,
 * message]` back. Each publish resolves to what the relay did — accepted (including `duplicate:`),
 * refused with its reason, or no answer (unreachable, dropped, timed out) — because the bridge treats
 * them differently: a refusal counts toward the row's attempts, silence never does. nostr-tools'
 * `Relay.publish` rejects both ways with the same Error, which is why the socket is ours (`ws`); events
 * are built and signed by nostr-tools.
 *
 * The connection reopens by itself with capped, jittered backoff (`link-state.ts`).
 */
import type { Event } from 'nostr-tools/core';
import { WebSocket } from 'ws';
import { backoffDelay } from '../../shared/backoff.js';
import { type LinkEvent, type LinkState, nextLinkState } from './link-state.js';

export type PublishOutcome =
  | { readonly kind: 'accepted'; readonly message: string }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly why: string };

export interface RelayLinkOptions {
  readonly url: string;
  readonly publishTimeoutMs: number;
  /** Reconnect backoff: full jitter up to min(cap, base·2^attempt). */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Called after every state change (the worker pumps when the link opens, metrics track it). */
  readonly onState?: (state: LinkState) => void;
}

interface InFlight {
  readonly resolve: (o: PublishOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

const MAX_MESSAGE = 1024;

export class RelayLink {
  private state: LinkState = { tag: 'idle' };
  private ws: WebSocket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly o: RelayLinkOptions) {}

  get current(): LinkState {
    return this.state;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.apply({ type: 'start' });
  }

  stop(): void {
    this.apply({ type: 'stop' });
  }

  /** Sends the event and resolves with the relay's answer; never rejects. */
  publish(event: Event): Promise<PublishOutcome> {
    const ws = this.ws;
    if (this.state.tag !== 'open' || !ws) {
      return Promise.resolve({ kind: 'unreachable', why: `relay link is ${this.state.tag}` });
    }
    if (this.inFlight.has(event.id)) {
      return Promise.resolve({ kind: 'unreachable', why: 'the same event is already awaiting an answer' });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // No answer in time: the relay is wedged or overloaded; treat the link as down and reopen it.
        this.settle(event.id, { kind: 'unreachable', why: `no OK within ${this.o.publishTimeoutMs} ms` });
        this.fail(ws, `no OK within ${this.o.publishTimeoutMs} ms`);
      }, this.o.publishTimeoutMs);
      this.inFlight.set(event.id, { resolve, timer });
      ws.send(JSON.stringify(['EVENT', event]), (err) => {
        if (err) this.settle(event.id, { kind: 'unreachable', why: `send failed: ${err.message}` });
      });
    });
  }

  private apply(event: LinkEvent): void {
    const before = this.state;
    const after = nextLinkState(before, event);
    if (after === before) return;
    this.state = after;
    if (after.tag === 'connecting') this.open();
    if (after.tag === 'backoff') {
      this.dropSocket(`relay unreachable: ${after.why}`);
      this.retryTimer = setTimeout(
        () => this.apply({ type: 'retry' }),
        Math.max(0, after.retryAt - Date.now()),
      );
    }
    if (after.tag === 'stopped') {
      clearTimeout(this.retryTimer);
      this.dropSocket('bridge stopping');
    }
    this.o.onState?.(after);
  }

  private open(): void {
    const ws = new WebSocket(this.o.url, { handshakeTimeout: this.o.publishTimeoutMs });
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws === ws) this.apply({ type: 'opened', now: Date.now() });
    });
    ws.on('message', (data) => {
      if (this.ws === ws) this.onMessage(data.toString());
    });
    ws.on('error', (err) => this.fail(ws, err.message));
    ws.on('close', (code) => this.fail(ws, `closed (${code})`));
  }

  /** A socket failed; only the current one moves the state (an old socket's late close is ignored). */
  private fail(ws: WebSocket, why: string): void {
    if (this.ws !== ws) return;
    const attempt = this.state.tag === 'connecting' ? this.state.attempt : 0;
    const delayMs = backoffDelay(attempt, this.o.backoff ?? { baseMs: 250, capMs: 30_000 });
    this.apply({ type: 'failed', why, now: Date.now(), delayMs });
  }

  private dropSocket(why: string): void {
    const ws = this.ws;
    this.ws = undefined;
    ws?.removeAllListeners('message');
    ws?.on('error', () => {}); // a socket being torn down may still report; nothing is listening for it
    ws?.terminate();
    for (const id of [...this.inFlight.keys()]) this.settle(id, { kind: 'unreachable', why });
  }

  private onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return; // not NIP-01; nothing awaits it
    }
    if (!Array.isArray(msg) || msg[0] !== 'OK' || typeof msg[1] !== 'string') return;
    const message = typeof msg[3] === 'string' ? msg[3].slice(0, MAX_MESSAGE) : '';
    this.settle(
      msg[1],
      msg[2] === true ? { kind: 'accepted', message } : { kind: 'refused', reason: message },
    );
  }

  private settle(id: string, outcome: PublishOutcome): void {
    const f = this.inFlight.get(id);
    if (!f) return;
    this.inFlight.delete(id);
    clearTimeout(f.timer);
    f.resolve(outcome);
  }
}
