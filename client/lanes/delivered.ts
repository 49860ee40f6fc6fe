/**
 * What a lane-switching client has delivered, by authority identity (parity/mapping.ts): per stream,
 * the highest authority seq. Both lanes deliver each stream in authority order, so "deliver iff past
 * the stream's mark" passes every event exactly once whichever lane it came from, however far the new
 * lane replays after a switch. The lanes' own numbers (legacy watermark per topic, our seq per stream)
 * are only resume hints for the lane they came from.
 */
export class DeliveredMarks {
  private readonly byStream = new Map<string, bigint>();

  /** True when the event is new (and records it); false for one already delivered. */
  admit(streamId: string, authoritySeq: bigint): boolean {
    if (authoritySeq <= (this.byStream.get(streamId) ?? 0n)) return false;
    this.byStream.set(streamId, authoritySeq);
    return true;
  }

  /** A mark loaded from a cursor store (a restarted client): only ever raises it. */
  restore(streamId: string, authoritySeq: bigint): void {
    if (authoritySeq > this.mark(streamId)) this.byStream.set(streamId, authoritySeq);
  }

  mark(streamId: string): bigint {
    return this.byStream.get(streamId) ?? 0n;
  }
}
