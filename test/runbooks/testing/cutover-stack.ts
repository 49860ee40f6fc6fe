/**
 * Test-only: what the cutover runbook tests start from — a dual stack (the service with shadow
 * parity, the reference legacy lane, one shared authority topic), the authority log they publish
 * with, and the environment an operator running cutover.md has: the service URL, an admin token
 * file, the cutover admin's SpacetimeDB token file, the change id and the client to route.
 */
import type { CutoverConfig } from '../../../adapter/cutover/config.js';
import { AuthorityLog, ownerTokenFile } from '../../cutover/testing/authority-log.js';
import { DualStack } from '../../parity/testing/dual-stack.js';
import { tokenFileEnv } from '../../support/auth.js';

/** The authority topic the cutover runbook tests publish on. */
export const CUTOVER_TOPIC = 'runtime.run_summaries';

export interface CutoverRunbookStack {
  readonly stack: DualStack;
  readonly log: AuthorityLog;
  readonly env: Record<string, string>;
}

export async function cutoverRunbookStack(o: {
  readonly streams: readonly string[];
  readonly cutover: CutoverConfig;
  /** How long a lane may lag the other before a missing event counts as a divergence. */
  readonly graceMs: number;
  readonly change: string;
  readonly clientId: string;
}): Promise<CutoverRunbookStack> {
  const stack = await DualStack.start([CUTOVER_TOPIC], {
    shadow: { sampleRate: 1, graceMs: o.graceMs, tickMs: 200 },
    cutover: o.cutover,
    probeIntervalMs: 100,
  });
  try {
    return {
      stack,
      log: new AuthorityLog(stack, CUTOVER_TOPIC, o.streams),
      env: {
        SPACETIME_SYNC_URL: stack.service.httpUrl,
        ...(await tokenFileEnv({ roles: ['admin'] })),
        CUTOVER_ADMIN_TOKEN_FILE: ownerTokenFile(stack),
        CHANGE: o.change,
        CLIENT_ID: o.clientId,
      },
    };
  } catch (e) {
    await stack.stop();
    throw e;
  }
}
