/**
 * The counts a long run aims at (issue 17: 1,000 adapter kills, 100 devhost crash-restarts, 20
 * broker restarts, 1,000 client kills) and the round composition that gets there: each round hits
 * every part that still owes kills at once (a storm of adapter kills, a storm of client kills, a
 * devhost crash, now and then a broker restart), plus at random the kinds without a target, so
 * every kind keeps being combined with the others. The run stops when every count is reached.
 */
import type { FaultKind } from './faults.js';
import type { Rng } from './rng.js';

export interface KillCounts {
  adapterKills: number;
  devhostCrashes: number;
  brokerRestarts: number;
  clientKills: number;
}

export type Targets = Readonly<KillCounts>;

export const ISSUE_TARGETS: Targets = {
  adapterKills: 1_000,
  devhostCrashes: 100,
  brokerRestarts: 20,
  clientKills: 1_000,
};

const NAMES: Record<keyof KillCounts, string> = {
  adapterKills: 'adapter_kills',
  devhostCrashes: 'devhost_crashes',
  brokerRestarts: 'broker_restarts',
  clientKills: 'client_kills',
};

/** `adapter_kills=1000,devhost_crashes=100,…` (names left out keep ISSUE_TARGETS'); an error says why not. */
export function parseTargets(raw: string): Targets | Error {
  const out: KillCounts = { ...ISSUE_TARGETS };
  for (const part of raw.split(',').filter((p) => p.trim() !== '')) {
    const [name, value] = part.split('=').map((s) => s.trim());
    const key = (Object.keys(NAMES) as (keyof KillCounts)[]).find((k) => NAMES[k] === name);
    const n = Number(value);
    if (!key) return new Error(`unknown target '${name}' (known: ${Object.values(NAMES).join(', ')})`);
    if (!Number.isInteger(n) || n < 0)
      return new Error(`target ${name} must be a whole number, not '${value}'`);
    out[key] = n;
  }
  return out;
}

export function reached(c: KillCounts, t: Targets): boolean {
  return (Object.keys(NAMES) as (keyof KillCounts)[]).every((k) => c[k] >= t[k]);
}

/** `adapter kills 12/1000, devhost crashes 3/100, …` (without targets: the counts alone). */
export function progressText(c: KillCounts, t?: Targets): string {
  const of = (k: keyof KillCounts) => `${c[k]}${t ? `/${t[k]}` : ''}`;
  return `adapter kills ${of('adapterKills')}, devhost crashes ${of('devhostCrashes')}, broker restarts ${of('brokerRestarts')}, client kills ${of('clientKills')}`;
}

/** One round's faults toward the targets, at most one per part, only of `kinds`. */
export function chooseForTargets(
  rng: Rng,
  kinds: readonly FaultKind[],
  c: KillCounts,
  t: Targets,
): FaultKind[] {
  const have = (k: FaultKind) => kinds.includes(k);
  const some = (...ks: FaultKind[]) => {
    const usable = ks.filter(have);
    return usable.length > 0 ? rng.pick(usable) : undefined;
  };
  const chance = (p: number) => rng.next() < p;
  const out: (FaultKind | undefined)[] = [];
  // The adapters: a storm while kills are owed, else now and then a single kill.
  if (c.adapterKills < t.adapterKills && have('adapter_storm')) out.push('adapter_storm');
  else if (chance(0.2)) out.push(some('adapter_kill', 'adapter_storm'));
  // The clients: mostly a storm while kills are owed; the other client faults in between.
  const clientOthers: FaultKind[] = ['offline_truncate', 'net_client', 'mass_reconnect', 'client_kill'];
  if (c.clientKills < t.clientKills && have('client_storm') && chance(0.8)) out.push('client_storm');
  else if (chance(0.5)) out.push(some(...clientOthers));
  // devhost: a crash in most rounds while crashes are owed, else a full disk.
  if (c.devhostCrashes < t.devhostCrashes)
    out.push(chance(0.85) || !have('disk_full') ? some('devhost_crash') : 'disk_full');
  else if (chance(0.3)) out.push(some('devhost_crash', 'disk_full'));
  // The broker: a restart in a third of the rounds while owed, a freeze in some others.
  const r = rng.next();
  if (c.brokerRestarts < t.brokerRestarts && r < 0.35) out.push(some('broker_restart'));
  else if (r > 0.8) out.push(some('broker_unreachable', 'broker_restart'));
  if (chance(0.1)) out.push(some('net_adapter'));
  if (chance(0.15)) out.push(some('legacy_crash', 'legacy_net'));
  const chosen = out.filter((k): k is FaultKind => k !== undefined);
  return chosen.length > 0 ? chosen : [rng.pick(kinds)];
}
