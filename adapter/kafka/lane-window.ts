/**
 * A lane's append calls kept in flight at once (`KAFKA_PARTITION_CALLS_IN_FLIGHT`): while the host
 * runs one call and fsyncs it, the next ones are already on their way, instead of the partition
 * waiting for each durable answer before it sends the next call.
 *
 * Order and exactly-once: one connection's calls run in the order sent, but a failed call does not
 * stop the next. So every call sent behind another names its predecessor's cursor (`fromOffset`),
 * and the module applies it only when the stored cursor is there (module/src/logic/cursor-plan.ts):
 * the calls applied are always a prefix of the calls sent. Answers are taken oldest first; when the
 * oldest failed, every later call is waited for, then the failed one and every later one that did
 * not succeed is redone one after the other through the lane's sequential path (retries, isolating
 * a refused event, dead-lettering it). A later call that succeeded stands: it was applied only
 * because its predecessor's messages were (a lost answer), and redoing those finds duplicates.
 * Nothing is committed to Kafka here: the batch loop commits once the lane drained (./batch-loop.ts).
 *
 * With a window of 1 every call is the sequential path, as before pipelining.
 */

/** How a window sends, records and redoes a lane's groups (./shard-lane.ts). */
export interface LaneWindowPorts<G, R> {
  /** One attempt of `group`, moving the cursor to `next`; `from` is the predecessor's cursor when one is in flight. */
  send(group: G, next: bigint, from: bigint | undefined): Promise<R>;
  /** A pipelined call answered: its metrics. */
  answered(group: G, result: R, startedAt: number): void;
  /** A call was sent; `inFlight` counts it with the ones before it still unanswered. */
  sent?(inFlight: number): void;
  /** A call sent in the window is redone on the sequential path (it failed, or one before it did). */
  redone?(): void;
  /** The sequential path for a group (retries and isolation); throws when the lane must stop. */
  redo(group: G, next: bigint): Promise<void>;
  /** False once the batch is given up (revoked, stale, stopping) or the shard is down. */
  live(): boolean;
}

/**
 * The lane stopped sending because its batch was given up; the calls already sent were waited for.
 * `group` is the first one not known applied: the oldest that failed, else the one not sent.
 */
export class WindowDropped<G = unknown> extends Error {
  constructor(readonly group: G) {
    super('the batch was given up: the rest of its calls were not sent');
  }
}

type Outcome<R> = { ok: true; result: R } | { ok: false; error: unknown };

interface InFlight<G, R> {
  readonly group: G;
  readonly next: bigint;
  readonly startedAt: number;
  readonly answer: Promise<Outcome<R>>;
}

export class LaneWindow<G, R> {
  private readonly calls: InFlight<G, R>[] = [];
  /** The cursor the newest call in flight leaves. */
  private tail = 0n;

  constructor(
    readonly max: number,
    private readonly ports: LaneWindowPorts<G, R>,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`calls in flight must be ≥ 1, not ${max}`);
  }

  get inFlight(): number {
    return this.calls.length;
  }

  /**
   * Sends `group` once a place is free (the oldest answers are taken first). Throws what the
   * sequential path throws for a failed call, or WindowDropped once the batch is not live.
   */
  async send(group: G, next: bigint): Promise<void> {
    if (this.max === 1) return this.ports.redo(group, next);
    while (this.calls.length >= this.max) await this.retireOldest();
    if (!this.ports.live()) throw new WindowDropped((await this.settle()) ?? group);
    const from = this.calls.length > 0 ? this.tail : undefined;
    const startedAt = performance.now();
    const answer = this.ports.send(group, next, from).then(
      (result): Outcome<R> => ({ ok: true, result }),
      (error: unknown): Outcome<R> => ({ ok: false, error }),
    );
    this.calls.push({ group, next, startedAt, answer });
    this.tail = next;
    this.ports.sent?.(this.calls.length);
  }

  /** Every call sent is answered (and redone where it failed). */
  async drain(): Promise<void> {
    while (this.calls.length > 0) await this.retireOldest();
  }

  /**
   * Waits for the calls in flight without redoing any (the batch is given up, nothing commits);
   * returns the oldest that failed, from where the partition must be read again.
   */
  private async settle(): Promise<G | undefined> {
    const calls = this.calls.splice(0);
    const outcomes = await Promise.all(calls.map((c) => c.answer));
    const failed = outcomes.findIndex((o) => !o.ok);
    return failed < 0 ? undefined : calls[failed]?.group;
  }

  private async retireOldest(): Promise<void> {
    const oldest = this.calls.shift();
    if (!oldest) return;
    const outcome = await oldest.answer;
    if (outcome.ok) {
      this.ports.answered(oldest.group, outcome.result, oldest.startedAt);
      return;
    }
    // Everything sent after it is waited for first: none of it may be redone while still in flight.
    const rest = this.calls.splice(0);
    const outcomes = await Promise.all(rest.map((c) => c.answer));
    this.ports.redone?.();
    await this.ports.redo(oldest.group, oldest.next);
    for (const [i, call] of rest.entries()) {
      const o = outcomes[i] as Outcome<R>;
      if (o.ok) {
        this.ports.answered(call.group, o.result, call.startedAt);
        continue;
      }
      this.ports.redone?.();
      await this.ports.redo(call.group, call.next);
    }
  }
}
