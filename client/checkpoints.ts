/**
 * Acks: tells the server, throttled, how far the application applied each stream (`ack_checkpoint`),
 * so retention and operators see real progress. Only applied seqs are acked; with confirmed reads
 * every one of them is already durable on the server.
 */
import { SyncError } from '../shared/errors/sync-error.js';
import { bounded } from './timers.js';

export interface AckSource {
  readonly id: string;
  /** Last seq the application applied. */
  readonly applied: bigint;
  /** Unknown until the stream's row or first event is seen; nothing is acked before. */
  readonly epoch: bigint | undefined;
  /** Settles when deliveries in progress are applied. */
  readonly settled: Promise<void>;
}

export type SendAck = (streamId: string, seq: bigint, epoch: bigint) => Promise<void>;

export class Checkpoints {
  private readonly acked = new Map<string, bigint>();
  /** Streams whose last ack was refused for good, with the reason reported (once per reason). */
  private readonly refused = new Map<string, string>();

  /**
   * `onRefused`: an ack the server refused for good (the module's SyncError: `unauthorized`,
   * `unknown_stream`, `beyond_head`, `invalid`), reported once per stream and reason; the ack is
   * still tried again on later flushes in case the cause goes away.
   */
  constructor(
    private readonly callTimeoutMs = 10_000,
    private readonly onRefused?: (streamId: string, error: SyncError) => void,
  ) {}

  /** The server already holds `seq` for the stream (a loaded cursor), or 0 after a rebootstrap. */
  reset(streamId: string, seq: bigint): void {
    this.acked.set(streamId, seq);
  }

  /**
   * Acks every stream that moved since its last ack. `stillCurrent` is asked after each wait: once
   * the connection it sends on is gone, the flush stops (the next connection's flush takes over).
   */
  async flush(streams: Iterable<AckSource>, send: SendAck, stillCurrent: () => boolean): Promise<void> {
    for (const s of streams) {
      await s.settled;
      if (!stillCurrent()) return;
      const applied = s.applied;
      const before = this.acked.get(s.id) ?? 0n;
      if (applied <= before || s.epoch === undefined) continue;
      try {
        await bounded(send(s.id, applied, s.epoch), this.callTimeoutMs);
        // Not over a rebootstrap's reset that happened while the call was out.
        if ((this.acked.get(s.id) ?? 0n) === before) this.acked.set(s.id, applied);
        this.refused.delete(s.id);
      } catch (e) {
        // A stale ack is answered by the stream row's update (rebootstrap); a retryable failure (a
        // timeout, a dropped socket) goes again next flush; a refusal for good is the application's.
        const err = SyncError.from(e);
        const forGood = err.reason !== 'stale_cursor' && !err.retryable;
        if (forGood && this.refused.get(s.id) !== err.reason) {
          this.refused.set(s.id, err.reason);
          this.onRefused?.(s.id, err);
        }
      }
      if (!stillCurrent()) return;
    }
  }
}
