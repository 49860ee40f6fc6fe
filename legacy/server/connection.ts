/**
 * One websocket of the legacy lane: decodes frames, answers Phoenix's socket-level heartbeat, and runs
 * everything on `sync:v1` through the channel's transition function, sending what it returns. A frame
 * that is not a Phoenix V2 array ends the socket (close 1007) the way a serializer crash ended it in
 * the original; the server and every other socket stay up.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/claims.js';
import { decodeFrame, encodeFrame, PHOENIX_TOPIC, type PhoenixFrame, reply } from '../protocol/frames.js';
import type { JournalView } from './batches.js';
import {
  type ChannelConfig,
  type ChannelEvent,
  type ChannelState,
  IDLE,
  transition,
} from './channel-state.js';

type Lifecycle = { readonly kind: 'open'; readonly channel: ChannelState } | { readonly kind: 'closed' };

export interface ConnectionOptions extends ChannelConfig {
  readonly journal: JournalView;
  readonly principal: Principal;
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
  readonly onClosed: () => void;
}

export class LaneConnection {
  private life: Lifecycle = { kind: 'open', channel: IDLE };
  private drainScheduled = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly o: ConnectionOptions,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data.toString('utf8'), isBinary));
    ws.on('close', () => this.closed());
    ws.on('error', (e) => o.logger.debug({ err: e.message }, 'legacy lane socket error'));
    this.heartbeat = setInterval(() => this.handle({ type: 'tick' }), o.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  /** A topic's journal head moved. */
  notify(topic: string): void {
    this.handle({ type: 'notify', topic });
  }

  get channel(): ChannelState | undefined {
    return this.life.kind === 'open' ? this.life.channel : undefined;
  }

  close(code: number, reason: string): void {
    if (this.life.kind === 'closed') return;
    this.ws.close(code, reason);
    this.closed();
  }

  private onMessage(text: string, isBinary: boolean): void {
    if (this.life.kind === 'closed') return;
    const decoded = isBinary
      ? ({ ok: false, reason: 'binary frames are not Phoenix V2 JSON' } as const)
      : decodeFrame(text);
    if (!decoded.ok) {
      this.refuse(decoded.reason);
      return;
    }
    const frame = decoded.frame;
    if (frame.topic === PHOENIX_TOPIC && frame.event === 'heartbeat') this.send([reply(frame, 'ok', {})]);
    else this.handle({ type: 'client', frame });
  }

  private refuse(reason: string): void {
    this.o.logger.info({ reason }, 'legacy lane closed a socket that sent a malformed frame');
    this.close(1007, `malformed frame: ${reason}`.slice(0, 120));
  }

  private handle(event: ChannelEvent): void {
    const life = this.life;
    if (life.kind === 'closed') return;
    const t = transition(life.channel, event, { ...this.o, nowMs: Date.now() });
    this.life = { kind: 'open', channel: t.state };
    this.send(t.out);
    if (t.drain && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        this.handle({ type: 'drain' });
      });
    }
  }

  private send(frames: readonly PhoenixFrame[]): void {
    if (this.life.kind === 'closed') return;
    for (const f of frames) this.ws.send(encodeFrame(f));
  }

  private closed(): void {
    if (this.life.kind === 'closed') return;
    this.life = { kind: 'closed' };
    clearInterval(this.heartbeat);
    this.o.onClosed();
  }
}
