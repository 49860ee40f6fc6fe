/**
 * The legacy lane as a rollback target. A rollback that routes more clients to the legacy lane is
 * only safe while that lane serves; the service knows its state through shadow parity's legacy client
 * (parity/collect/legacy.ts). Without shadow parity the service has no link to the lane: its state is
 * unknown and rollbacks are not held back (README "Cutover").
 */
import { create } from '@bufbuild/protobuf';
import { type CutoverStage, formatStage, spacetimePercent } from '../../module/src/cutover-machine.js';
import type { LegacyLaneHealth } from '../../parity/collect/legacy.js';
import { UnavailableDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';

export type { LegacyLaneHealth };

/** Whether moving from `from` to `to` puts clients on the legacy lane that are not on it now. */
export const sendsClientsToLegacy = (from: CutoverStage, to: CutoverStage): boolean =>
  spacetimePercent(to) < spacetimePercent(from);

/** One line naming the lane's state, e.g. "backoff #3 (socket closed), last delivery 12 s ago". */
export function describeLegacyLane(h: LegacyLaneHealth, nowMs = Date.now()): string {
  const last =
    h.lastDeliveryAtMs === undefined
      ? 'no delivery seen'
      : `last delivery ${Math.max(0, Math.round((nowMs - h.lastDeliveryAtMs) / 1000))} s ago`;
  return `${h.state}, ${last}`;
}

/** The refusal of a manual rollback into a lane that is down (retry once it is back, or override). */
export function legacyLaneDown(h: LegacyLaneHealth, from: CutoverStage, to: CutoverStage): SyncError {
  return new SyncError(
    'unavailable',
    `the legacy lane is down (${describeLegacyLane(h)}): rolling back from ${formatStage(from)} to ${formatStage(to)} would send clients to it; retry once it serves, or override_legacy_down (CLI --override-legacy-down) to move anyway`,
    { detail: create(UnavailableDetailSchema, { dependency: 'legacy_lane' }) },
  );
}
