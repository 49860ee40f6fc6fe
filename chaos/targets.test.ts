import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, type FaultKind } from './faults.js';
import { Rng } from './rng.js';
import { chooseForTargets, ISSUE_TARGETS, parseTargets, progressText, reached } from './targets.js';

const none = { adapterKills: 0, devhostCrashes: 0, brokerRestarts: 0, clientKills: 0 };
const PART: Partial<Record<FaultKind, string>> = {
  adapter_kill: 'adapter',
  adapter_storm: 'adapter',
  client_storm: 'clients',
  client_kill: 'clients',
  mass_reconnect: 'clients',
  offline_truncate: 'clients',
  net_client: 'clients',
  devhost_crash: 'devhost',
  disk_full: 'devhost',
  broker_restart: 'broker',
  broker_unreachable: 'broker',
};

describe('kill targets of a long run', () => {
  it("parses CHAOS_TARGETS over the issue's counts and refuses unknown names and bad numbers", () => {
    expect(parseTargets('')).toEqual(ISSUE_TARGETS);
    expect(parseTargets('adapter_kills=5, client_kills=7')).toEqual({
      ...ISSUE_TARGETS,
      adapterKills: 5,
      clientKills: 7,
    });
    expect(parseTargets('adapter_kils=5')).toBeInstanceOf(Error);
    expect(parseTargets('broker_restarts=-1')).toBeInstanceOf(Error);
    expect(parseTargets('broker_restarts=x')).toBeInstanceOf(Error);
  });

  it('is reached only when every count is, and says how far each is', () => {
    const t = { adapterKills: 2, devhostCrashes: 1, brokerRestarts: 1, clientKills: 2 };
    expect(reached({ adapterKills: 2, devhostCrashes: 1, brokerRestarts: 0, clientKills: 9 }, t)).toBe(false);
    expect(reached({ adapterKills: 2, devhostCrashes: 1, brokerRestarts: 1, clientKills: 2 }, t)).toBe(true);
    expect(progressText({ ...none, adapterKills: 12 }, ISSUE_TARGETS)).toBe(
      'adapter kills 12/1000, devhost crashes 0/100, broker restarts 0/20, client kills 0/1000',
    );
  });

  it('composes rounds toward what is owed: an adapter storm every round, a devhost crash in most, at most one kind per part', () => {
    const rng = new Rng(42);
    const rounds = Array.from({ length: 400 }, () => chooseForTargets(rng, FAULT_KINDS, none, ISSUE_TARGETS));
    const share = (k: FaultKind) => rounds.filter((r) => r.includes(k)).length / rounds.length;
    expect(share('adapter_storm')).toBe(1);
    expect(share('client_storm')).toBeGreaterThan(0.7);
    expect(share('devhost_crash')).toBeGreaterThan(0.75);
    expect(share('broker_restart')).toBeGreaterThan(0.25);
    for (const r of rounds) {
      const parts = r.map((k) => PART[k] ?? k);
      expect(new Set(parts).size, r.join(' + ')).toBe(parts.length);
    }
  });

  it('stops storming a part whose target is reached, and keeps to the kinds the run may use', () => {
    const rng = new Rng(7);
    const done = { adapterKills: 1000, devhostCrashes: 100, brokerRestarts: 20, clientKills: 1000 };
    const kinds: FaultKind[] = ['adapter_storm', 'client_storm', 'devhost_crash', 'net_adapter'];
    for (let i = 0; i < 200; i++) {
      const r = chooseForTargets(rng, kinds, { ...done, devhostCrashes: 3 }, ISSUE_TARGETS);
      expect(r.every((k) => kinds.includes(k))).toBe(true);
      expect(r).not.toContain('client_storm');
      expect(r).toContain('devhost_crash');
    }
  });
});
