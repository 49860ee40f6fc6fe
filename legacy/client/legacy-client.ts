/**
 * A client of a generation-1 legacy lane (the reference server here, or a real Khala endpoint: URL +
 * token). It joins `sync:v1`, subscribes with `resume_after`, receives the replay and then the live
 * tail, and hands the application each row once, keyed by (topic, watermark) — the lane sends every
 * batch twice (./batch-delivery.ts). Errors are LegacyLaneError with the lane's code; a generation-2
 * endpoint is refused. Calls wait for their reply in ./pending-replies.ts.
 *
 *   connecting ──upgrade──► joining ──phx_reply ok──► joined ──socket/channel end, close()──► closed
 */
import WebSocket from 'ws';
import { decodeFrame, encodeFrame, type PhoenixFrame, SYNC_CHANNEL } from '../protocol/frames.js';
import { type LegacyUpdate, parseBatch, parseKhalaFrame } from './batch.js';
import { BatchDelivery, type ClientStats } from './batch-delivery.js';
import { gen2, looksLikeGen2Frame, socketUrl } from './endpoint.js';
import { fromLanePayload, isLegacyLaneError, LegacyLaneError } from './errors.js';
import { PendingReplies } from './pending-replies.js';
import { UpdateDedupe } from './update-dedupe.js';

export type { ClientStats } from './batch-delivery.js';

export interface LegacyClientOptions {
  /** `ws(s)://host[:port]` or the full `…/socket/websocket` URL. */
  readonly url: string;
  /** The sync JWT; it travels in the query string, as the lane requires, and is never logged. */
  readonly token: string;
  /** Each row once, in the order received. */
  readonly onUpdate?: (update: LegacyUpdate) => void;
  /** Errors that are not the answer to a call: `sync:error` pushes, a reused watermark, the end of the connection. */
  readonly onError?: (error: LegacyLaneError) => void;
  /** `sync:heartbeat` interval (the desktop sent one every 20 s; the lane stops a channel idle > 60 s). 0 = never. */
  readonly heartbeatMs?: number;
  /** How long connect and each request wait for their answer. */
  readonly timeoutMs?: number;
  /** Recompute each row's canonical hash and report a mismatch as `bad_frame_payload`. Default true. */
  readonly verifyHashes?: boolean;
  readonly dedupeWindow?: number;
  /**
   * Carry the (topic, watermark) memory over from an earlier connection (`previous.dedupe`), so a
   * consumer that reconnects still sees each row once, and a lane that came back from an old snapshot
   * and reuses watermarks for other rows is reported (`watermark_reused`).
   */
  readonly dedupe?: UpdateDedupe;
}

export interface SubscribeOptions {
  /** `{topic: watermark}`; 'applied' resumes every requested topic from what this client delivered. */
  readonly resumeAfter?: Readonly<Record<string, number>> | 'applied';
  readonly replayBatchSize?: number;
}

export interface SubscribeResult {
  readonly topics: readonly string[];
  /** The watermark per topic the replay reached (the lane's `current_watermarks`). */
  readonly currentWatermarks: Readonly<Record<string, number>>;
}

type Life =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'joining' }
  | { readonly kind: 'joined'; readonly subscriptionId: string; readonly allowedTopics: readonly string[] }
  | { readonly kind: 'closed'; readonly error: LegacyLaneError };

const JOIN_REF = '1';

export class LegacyLaneClient {
  private life: Life = { kind: 'connecting' };
  private nextRef = 1;
  private readonly pending = new PendingReplies();
  /** What this client delivered, by (topic, watermark); pass it to the next connection's `dedupe`. */
  readonly dedupe: UpdateDedupe;
  private readonly delivery: BatchDelivery;
  private readonly recentErrors: string[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private firstMessage = true;
  private endResolve!: (e: LegacyLaneError) => void;
  /** Resolves with why the connection ended (`closed` after close()). */
  readonly done: Promise<LegacyLaneError>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly o: LegacyClientOptions,
  ) {
    this.dedupe = o.dedupe ?? new UpdateDedupe(o.dedupeWindow);
    this.delivery = new BatchDelivery(this.dedupe, {
      verifyHashes: o.verifyHashes !== false,
      ...(o.onUpdate ? { onUpdate: o.onUpdate } : {}),
      report: (e) => this.report(e),
    });
    this.done = new Promise((resolve) => {
      this.endResolve = resolve;
    });
  }

  /** Opens the socket and joins `sync:v1`; rejects with `unauthorized`, `generation_2_endpoint`, … */
  static async connect(o: LegacyClientOptions): Promise<LegacyLaneClient> {
    const url = socketUrl(o.url, o.token);
    const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
    const client = new LegacyLaneClient(ws, o);
    await client.open();
    return client;
  }

  get allowedTopics(): readonly string[] {
    return this.life.kind === 'joined' ? this.life.allowedTopics : [];
  }

  get subscriptionId(): string | undefined {
    return this.life.kind === 'joined' ? this.life.subscriptionId : undefined;
  }

  /** Highest watermark delivered for `topic`. */
  watermark(topic: string): number {
    return this.dedupe.watermark(topic);
  }

  /** Every topic's delivered watermark, ready to pass as `resumeAfter` after a reconnect. */
  watermarks(): Record<string, number> {
    return this.dedupe.watermarks();
  }

  stats(): ClientStats {
    return this.delivery.stats();
  }

  /**
   * Subscribes; the replay arrives through onUpdate before this resolves (the lane replays first and
   * replies last). Rejects with `stale_cursor` (see `staleTopics`), `forbidden_topic`, `bad_subscription`.
   */
  async subscribe(topics: readonly string[], options: SubscribeOptions = {}): Promise<SubscribeResult> {
    const resume =
      options.resumeAfter === 'applied'
        ? Object.fromEntries(topics.map((t) => [t, this.watermark(t)]))
        : options.resumeAfter;
    const payload: Record<string, unknown> = { topics };
    if (resume) payload.resume_after = resume;
    if (options.replayBatchSize) payload.replay_batch_size = options.replayBatchSize;
    this.delivery.replayStarted(topics);
    try {
      const response = (await this.request('sync:subscribe', payload, topics)) as {
        topics?: string[];
        current_watermarks?: { topic: string; watermark: number }[];
      };
      return {
        topics: response.topics ?? [...topics],
        currentWatermarks: Object.fromEntries(
          (response.current_watermarks ?? []).map((w) => [w.topic, w.watermark]),
        ),
      };
    } finally {
      this.delivery.replayDone(topics);
    }
  }

  /** Returns the topics still subscribed. */
  async unsubscribe(topics: readonly string[]): Promise<string[]> {
    const response = (await this.request('sync:unsubscribe', { topics })) as { topics?: string[] };
    return response.topics ?? [];
  }

  /** Sends `sync:heartbeat`; returns the lane's view of this channel's watermarks. */
  async heartbeat(): Promise<Record<string, number>> {
    const response = (await this.request('sync:heartbeat', {})) as {
      watermarks?: { topic: string; watermark: number }[];
    };
    return Object.fromEntries((response.watermarks ?? []).map((w) => [w.topic, w.watermark]));
  }

  async close(): Promise<void> {
    this.end(new LegacyLaneError('closed', 'closed by the application'), false);
    await this.done;
  }

  private open(): Promise<void> {
    const timeoutMs = this.o.timeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const fail = (e: LegacyLaneError) => {
        clearTimeout(timer);
        this.end(e, false); // the caller of connect() gets it
        reject(e);
      };
      const timer = setTimeout(
        () => fail(new LegacyLaneError('timeout', `no join answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.ws.on('unexpected-response', (req, res) => {
        req.destroy();
        const status = res.statusCode ?? 0;
        fail(
          status === 401 || status === 403
            ? new LegacyLaneError(
                'unauthorized',
                `the lane refused the socket (HTTP ${status}): missing, invalid or expired token`,
              )
            : new LegacyLaneError('unreachable', `the lane answered the upgrade with HTTP ${status}`),
        );
      });
      this.ws.on('error', (e) => fail(new LegacyLaneError('unreachable', e.message)));
      this.ws.on('close', (code, reason) =>
        this.end(new LegacyLaneError('closed', `socket closed (${code} ${reason.toString()})`)),
      );
      this.ws.on('message', (data) => this.onMessage(data.toString()));
      this.ws.on('open', () => {
        this.life = { kind: 'joining' };
        // OA clients joined with join_ref null and ref "1" (fact sheet §1).
        this.nextRef = 2;
        this.pending
          .await(JOIN_REF, 'phx_join', [], timeoutMs)
          .then((response) => {
            clearTimeout(timer);
            const r = response as { subscription_id?: string; allowed_topics?: string[] };
            if (this.life.kind !== 'joining') return;
            this.life = {
              kind: 'joined',
              subscriptionId: r.subscription_id ?? '',
              allowedTopics: r.allowed_topics ?? [],
            };
            this.startHeartbeat();
            resolve();
          })
          .catch((e: unknown) =>
            fail(isLegacyLaneError(e) ? e : new LegacyLaneError('malformed_frame', String(e))),
          );
        this.ws.send(
          encodeFrame({ joinRef: null, ref: JOIN_REF, topic: SYNC_CHANNEL, event: 'phx_join', payload: {} }),
        );
      });
    });
  }

  private startHeartbeat(): void {
    const every = this.o.heartbeatMs ?? 20_000;
    if (every <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      this.heartbeat().catch(() => {}); // a failed heartbeat shows up as the connection ending
    }, every);
    this.heartbeatTimer.unref();
  }

  private request(event: string, payload: unknown, topics: readonly string[] = []): Promise<unknown> {
    if (this.life.kind !== 'joined') {
      return Promise.reject(
        this.life.kind === 'closed' ? this.life.error : new LegacyLaneError('closed', 'not joined'),
      );
    }
    const ref = String(this.nextRef++);
    const reply = this.pending.await(ref, event, topics, this.o.timeoutMs ?? 30_000);
    this.ws.send(encodeFrame({ joinRef: JOIN_REF, ref, topic: SYNC_CHANNEL, event, payload }));
    return reply;
  }

  private onMessage(text: string): void {
    if (this.firstMessage) {
      this.firstMessage = false;
      if (looksLikeGen2Frame(text)) {
        this.end(gen2(this.o.url));
        return;
      }
    }
    const decoded = decodeFrame(text);
    if (!decoded.ok) {
      this.end(new LegacyLaneError('malformed_frame', decoded.reason));
      return;
    }
    try {
      this.onFrame(decoded.frame);
    } catch (e) {
      this.report(isLegacyLaneError(e) ? e : new LegacyLaneError('malformed_frame', String(e)));
    }
  }

  private onFrame(f: PhoenixFrame): void {
    switch (f.event) {
      case 'phx_reply':
        this.pending.answer(f.ref, f.payload);
        return;
      case 'sync:update_batch':
        this.delivery.deliver(parseBatch(f.payload));
        return;
      case 'sync:frame': {
        const frame = parseKhalaFrame(f.payload);
        if (frame.kind === 'KHALA_FRAME_KIND_UPDATE_BATCH') this.delivery.deliver(parseBatch(frame.payload));
        else if (frame.kind === 'KHALA_FRAME_KIND_ERROR') this.onLaneError(frame.payload);
        // SUBSCRIBED / HEARTBEAT frames were documented but never sent; nothing to do.
        return;
      }
      case 'sync:error':
        this.onLaneError(f.payload);
        return;
      case 'phx_close':
      case 'phx_error':
        if (f.topic === SYNC_CHANNEL)
          this.end(new LegacyLaneError('channel_closed', `the lane stopped the channel (${f.event})`));
        return;
      default:
        return; // sync:heartbeat pushes and anything newer: nothing to apply.
    }
  }

  /** `sync:error` and its `sync:frame` twin carry the same payload: report it once. */
  private onLaneError(payload: unknown): void {
    const key = JSON.stringify(payload);
    if (this.recentErrors.includes(key)) return;
    this.recentErrors.push(key);
    if (this.recentErrors.length > 8) this.recentErrors.shift();
    const code = (payload as { code?: unknown } | null)?.code;
    // A stale cursor is also the subscribe's error reply, which rejects that call.
    if (code === 'stale_cursor' && this.pending.subscribing) return;
    this.report(fromLanePayload(payload, 'sync:error'));
  }

  private report(e: LegacyLaneError): void {
    this.o.onError?.(e);
  }

  /** The one way to `closed`: fails every waiting call, stops the socket, reports unless asked not to. */
  private end(error: LegacyLaneError, report = true): void {
    if (this.life.kind === 'closed') return;
    this.life = { kind: 'closed', error };
    clearInterval(this.heartbeatTimer);
    this.pending.failAll(error);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
    if (report) this.report(error);
    this.endResolve(error);
  }
}
