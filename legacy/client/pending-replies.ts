/**
 * The legacy client's calls waiting for their `phx_reply`, by ref: each answered once (ok → its
 * response, error → the lane's typed error), or failed by its timeout, or all at once when the
 * connection ends.
 */
import { fromLanePayload, LegacyLaneError } from './errors.js';

interface Pending {
  resolve(response: unknown): void;
  reject(error: LegacyLaneError): void;
  readonly timer: NodeJS.Timeout;
  readonly event: string;
  readonly topics: readonly string[];
}

export class PendingReplies {
  private readonly pending = new Map<string, Pending>();

  /** Waits for the reply to `ref` (the call `event`, about `topics`) for at most `timeoutMs`. */
  await(ref: string, event: string, topics: readonly string[], timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new LegacyLaneError('timeout', `no reply to ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(ref, { resolve, reject, timer, event, topics });
    });
  }

  /** A `phx_reply`'s ref and payload; a reply nobody waits for is dropped. */
  answer(ref: string | null, payload: unknown): void {
    const pending = ref === null ? undefined : this.pending.get(ref);
    if (!pending || ref === null) return;
    this.pending.delete(ref);
    clearTimeout(pending.timer);
    const p = payload as { status?: unknown; response?: unknown } | null;
    if (p?.status === 'ok') pending.resolve(p.response);
    else pending.reject(fromLanePayload(p?.response, pending.event));
  }

  /** Whether a call about topics (a subscribe) is waiting: its error reply will reject it. */
  get subscribing(): boolean {
    return [...this.pending.values()].some((p) => p.topics.length > 0);
  }

  /** Fails every waiting call with `error`. */
  failAll(error: LegacyLaneError): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }
}
