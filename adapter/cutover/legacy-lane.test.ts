import { describe, expect, it } from 'vitest';
import type { CutoverStage } from '../../module/src/cutover-machine.js';
import { describeLegacyLane, legacyLaneDown, sendsClientsToLegacy } from './legacy-lane.js';

const canary = (percent: number): CutoverStage => ({ kind: 'canary', percent });

describe('rolling back into the legacy lane', () => {
  it('checks the lane only for moves that put clients on it who are not on it now', () => {
    expect(sendsClientsToLegacy({ kind: 'spacetime_primary' }, { kind: 'shadow' })).toBe(true);
    expect(sendsClientsToLegacy({ kind: 'spacetime_primary' }, canary(90))).toBe(true);
    expect(sendsClientsToLegacy(canary(50), canary(10))).toBe(true);
    expect(sendsClientsToLegacy(canary(10), { kind: 'shadow' })).toBe(true);
    // Everyone is on the legacy lane already, or nobody moves to it.
    expect(sendsClientsToLegacy({ kind: 'shadow' }, { kind: 'legacy_only' })).toBe(false);
    expect(sendsClientsToLegacy({ kind: 'legacy_retired' }, { kind: 'spacetime_primary' })).toBe(false);
  });

  it("names the lane's state and last delivery in the refusal", () => {
    const h = { up: false, state: 'backoff #3 (socket closed)', lastDeliveryAtMs: 1_000 };
    expect(describeLegacyLane(h, 13_400)).toBe('backoff #3 (socket closed), last delivery 12 s ago');
    expect(describeLegacyLane({ up: false, state: 'connecting' })).toBe('connecting, no delivery seen');
    const e = legacyLaneDown(h, canary(50), { kind: 'shadow' });
    expect(e.reason).toBe('unavailable');
    expect(e.message).toMatch(
      /^the legacy lane is down \(backoff #3 \(socket closed\), last delivery \d+ s ago\): rolling back from canary\(50%\) to shadow would send clients to it/,
    );
  });
});
