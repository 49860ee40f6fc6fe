/**
 * When a pipelined call comes back "out of order" (the service held it for its predecessor, then
 * refused it, retryable), resending at once only works if the predecessor happens to have landed
 * meanwhile: a predecessor slower than a few hold times made a healthy call fail. So the resend
 * waits for the predecessor's own answer first — the one moment the module's cursor is known to be
 * where this call needs it — and a predecessor that failed ends this call too (the service would
 * refuse it forever; the command reports the predecessor's failure as the cause).
 */

/** What a pipelined call's caller sees: an answer or the error it failed with. */
export type Attempt<T> = () => Promise<T>;

/** Resends after an out-of-order refusal, this many times once the predecessor has answered. */
const RESENDS_AFTER_PREDECESSOR = 3;

export class PredecessorFailedError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `not applied: the call before it failed (${cause instanceof Error ? cause.message : String(cause)})`,
    );
    this.name = 'PredecessorFailedError';
  }
}

/**
 * Runs `attempt`; while it answers out of order (`isOutOfOrder`), waits for `predecessor` to settle
 * and sends again. `predecessor` is the previous call's own `sendInOrder` promise (undefined for the
 * first call), so a chain of calls resolves in call order whatever order the service saw them in.
 */
export async function sendInOrder<T>(
  attempt: Attempt<T>,
  predecessor: Promise<unknown> | undefined,
  isOutOfOrder: (e: unknown) => boolean,
): Promise<T> {
  let resends = 0;
  for (;;) {
    let failure: unknown;
    try {
      return await attempt();
    } catch (e) {
      failure = e;
    }
    if (!isOutOfOrder(failure) || predecessor === undefined || resends >= RESENDS_AFTER_PREDECESSOR)
      throw failure;
    try {
      await predecessor;
    } catch (cause) {
      throw new PredecessorFailedError(cause);
    }
    resends++;
  }
}
