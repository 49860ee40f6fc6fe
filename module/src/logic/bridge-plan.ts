/**
 * What a relay's answer does to a bridge delivery, and what the deliveries make of the outbox row.
 * Pure, so the rules are tested without a host; the reducers in `reducers/bridge.ts` apply them.
 *
 * Only answers a relay gave count as attempts: `OK false` with its reason. A relay that is down gives
 * no answer, so it never exhausts attempts — its deliveries wait (the worker backs off) and go out
 * when it returns.
 */
export type DeliveryStatus = 'pending' | 'sent' | 'failed';

export interface DeliveryState {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | undefined;
}

export type RelayAnswer = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

/** A delivery before its first answer. */
export const NEW_DELIVERY: DeliveryState = { status: 'pending', attempts: 0, lastError: undefined };

/**
 * The delivery after one relay answer. Settled deliveries stay as they are: a second `OK true` (the
 * relay's `duplicate:` after a worker restart) or a late refusal changes nothing, and a failed one
 * waits for an operator's retry.
 */
export function applyAnswer(current: DeliveryState, answer: RelayAnswer, maxAttempts: number): DeliveryState {
  if (current.status !== 'pending') return current;
  if (answer.accepted) return { ...current, status: 'sent' };
  const attempts = current.attempts + 1;
  return { status: attempts >= maxAttempts ? 'failed' : 'pending', attempts, lastError: answer.reason };
}

/**
 * The outbox row's status over the configured relays: sent when every relay has it, failed when every
 * relay settled and one refused it for good, pending while any relay is still open. Deliveries to
 * relays no longer configured don't count.
 */
export function outboxStatus(
  relays: readonly string[],
  deliveries: ReadonlyMap<string, DeliveryStatus>,
): DeliveryStatus {
  let failed = false;
  for (const relay of relays) {
    const status = deliveries.get(relay);
    if (status === undefined || status === 'pending') return 'pending';
    if (status === 'failed') failed = true;
  }
  return failed ? 'failed' : 'sent';
}

/** Whether a sent row is old enough to prune. */
export function isPrunable(updatedAtMicros: bigint, nowMicros: bigint, retentionMicros: bigint): boolean {
  return updatedAtMicros + retentionMicros <= nowMicros;
}
