/**
 * Cohort routing, pure: a client's fixed bucket (0…99) from a hash of its identity, and the lane it
 * uses in a stage. A client is on SpacetimeDB while its bucket is below the stage's percentage, so as
 * the canary grows clients only ever join it: one in the canary at 10 % is in it at 50 %.
 */
import { createHash } from 'node:crypto';
import { type CutoverStage, spacetimePercent } from '../../module/src/cutover-machine.js';

export type ClientLane = 'legacy' | 'spacetime';

export function cohortBucket(clientId: string): number {
  // 2^32 is not a multiple of 100; the bias (< 1e-7 per bucket) does not matter for routing.
  return createHash('sha256').update(`cutover-cohort:${clientId}`).digest().readUInt32BE(0) % 100;
}

export function laneFor(clientId: string, stage: CutoverStage): { lane: ClientLane; bucket: number } {
  const bucket = cohortBucket(clientId);
  return { lane: bucket < spacetimePercent(stage) ? 'spacetime' : 'legacy', bucket };
}
