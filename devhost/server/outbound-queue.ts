/**
 * One connection's outbound messages, in the order they were produced. With confirmed reads a message
 * that carries a transaction offset is held until that offset is durable, and everything queued after
 * it waits too (SpacetimeDB's `ClientConnectionReceiver::recv_many`); messages without an offset
 * (errors, failed reducer results) go out as soon as what precedes them has.
 */
import { type Compression, sharedServerFrame, V3_MAX_FRAME_BODY, type WsVersion } from './framing.js';

export interface OutboundQueueOptions {
  readonly version: WsVersion;
  readonly compression: Compression;
  /** Hold offset-carrying messages until durable. */
  readonly confirmed: boolean;
  readonly waitDurable: (offset: bigint) => Promise<void>;
  readonly sendFrame: (frame: Buffer) => void;
  /** Waiting for durability failed (database closed): the connection cannot continue. */
  readonly onFailure: (error: unknown) => void;
}

interface Pending {
  readonly body: Uint8Array;
  readonly offset: bigint | undefined;
}

export class OutboundQueue {
  private readonly pending: Pending[] = [];
  private pumping = false;
  private closed = false;
  /** Highest offset already known durable: later messages at or below it need no wait. */
  private durable = -1n;

  constructor(private readonly options: OutboundQueueOptions) {}

  /** Queue one encoded `ServerMessage`; `txOffset` is the transaction whose state it reflects. */
  push(body: Uint8Array, txOffset?: bigint): void {
    if (this.closed) return;
    this.pending.push({ body, offset: txOffset });
    if (!this.pumping) {
      this.pumping = true;
      // Messages produced in the same tick (e.g. one commit's broadcast) can share a v3 frame.
      queueMicrotask(() => void this.pump());
    }
  }

  /** Drop everything not yet sent; nothing is sent after this. */
  close(): void {
    this.closed = true;
    this.pending.length = 0;
  }

  private async pump(): Promise<void> {
    try {
      while (!this.closed && this.pending.length > 0) {
        if (!this.options.confirmed) {
          this.flush(this.pending.length);
          continue;
        }
        // The run of offset-carrying messages at the head is released together once its highest offset
        // is durable (`next_confirmed_reads_batch`); a head without an offset goes out alone.
        let count = 0;
        let max = -1n;
        for (const p of this.pending) {
          if (p.offset === undefined) break;
          count++;
          if (p.offset > max) max = p.offset;
        }
        if (count === 0) {
          this.flush(1);
          continue;
        }
        if (max > this.durable) {
          await this.options.waitDurable(max);
          if (max > this.durable) this.durable = max;
        }
        if (this.closed) return;
        this.flush(count);
      }
    } catch (error) {
      this.close();
      this.options.onFailure(error);
    } finally {
      this.pumping = false;
    }
  }

  private flush(count: number): void {
    const batch = this.pending.splice(0, count);
    if (this.options.version === 'v2') {
      for (const p of batch) this.options.sendFrame(sharedServerFrame(p.body, this.options.compression));
      return;
    }
    // v3: concatenate into frames whose uncompressed body stays within the server's limit.
    let group: Uint8Array[] = [];
    let size = 0;
    const emit = () => {
      if (group.length === 0) return;
      // One message alone is the broadcast's shared body: its frame is shared too.
      const body = group.length === 1 ? (group[0] as Uint8Array) : Buffer.concat(group, size);
      this.options.sendFrame(sharedServerFrame(body, this.options.compression));
      group = [];
      size = 0;
    };
    for (const p of batch) {
      if (size > 0 && size + p.body.length > V3_MAX_FRAME_BODY) emit();
      group.push(p.body);
      size += p.body.length;
    }
    emit();
  }
}
