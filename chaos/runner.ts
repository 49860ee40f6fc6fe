/**
 * The chaos runner: rounds of randomly chosen, combined faults against a live World while the
 * authority keeps publishing, then a settle and the invariant checker over everything SpacetimeDB
 * and every client journal hold. Counts per fault kind and the worst recovery time go in the report.
 */
import { PROBE_STREAM } from '../adapter/spacetime/delivery-probe.js';
import { FAULT_KINDS, type FaultKind, type FaultResult, runFault } from './faults.js';
import { checkInvariants, countByKind, type Violation } from './invariants/check.js';
import { readDatabase, readJournal } from './invariants/collect.js';
import { isRetired, retiredBelow } from './invariants/truncation-check.js';
import { Rng } from './rng.js';
import { chooseForTargets, type KillCounts, progressText, reached, type Targets } from './targets.js';
import { World } from './world.js';

export interface ChaosOptions {
  /** Stop after this many rounds… */
  readonly rounds: number;
  /** …or after this many minutes, whichever comes first. */
  readonly minutes: number;
  readonly seed: number;
  readonly adapters: number;
  readonly clients: number;
  readonly streams: number;
  readonly partitions: number;
  readonly eventsPerRound: number;
  /** Faults per round: 1..maxCombined distinct kinds at random offsets. */
  readonly maxCombined: number;
  /** Run the reference legacy lane beside (default true): legacy faults and the parity check. */
  readonly legacy?: boolean;
  /** Only these kinds (default: every kind). */
  readonly kinds?: readonly FaultKind[];
  /** Rounds 1..n run each kind once in this order before random rounds (the short mode's coverage). */
  readonly firstEach?: boolean;
  /** Check the invariants every this many rounds too (besides the end). 0 = only at the end. */
  readonly checkEvery: number;
  /**
   * Kill counts to reach (./targets.ts): rounds are composed toward them and the run stops once all
   * are reached (or at `rounds` / `minutes`). Absent: 1..maxCombined random kinds per round.
   */
  readonly targets?: Targets;
  /** Kill steps of a storm fault, drawn per round from this range (default [2, 2]). */
  readonly stormSteps?: readonly [number, number];
  readonly keepDir: boolean;
  readonly log: (line: string) => void;
}

export interface FaultStats {
  rounds: number;
  maxRecoveryMs: number;
}

export interface ChaosReport {
  readonly seed: number;
  /** The fault kinds this run could use (disk_full needs a tmpfs of devhost's own). */
  readonly kinds: readonly FaultKind[];
  readonly rounds: number;
  readonly minutes: number;
  readonly faults: Record<FaultKind, FaultStats>;
  readonly clientKills: number;
  /** Adapter kills, devhost crash-restarts, broker restarts and client kills survived. */
  readonly kills: KillCounts;
  readonly targets?: Targets;
  readonly published: number;
  /** Published events dropped on purpose by the `offline_truncate` fault (below a truncation's low watermark). */
  readonly retired: number;
  readonly stored: number;
  readonly clientEventsApplied: number;
  readonly violations: Violation[];
  /** Events the parity harness compared between the legacy lane and ours (0: no legacy lane). */
  readonly parityCompared: number;
  /** Faults whose recovery signal never came, and clients that never caught up: each a finding. */
  readonly failures: { round: number; what: string; message: string }[];
  readonly counts: ReturnType<typeof countByKind>;
}

/** Kinds that hit the same part are not combined in one round (they would fight over it). */
const PART: Record<FaultKind, string> = {
  adapter_kill: 'adapter',
  devhost_crash: 'devhost',
  broker_restart: 'broker',
  broker_unreachable: 'broker',
  net_adapter: 'adapter-net',
  net_client: 'clients',
  client_kill: 'clients',
  mass_reconnect: 'clients',
  offline_truncate: 'clients',
  disk_full: 'devhost',
  legacy_crash: 'legacy',
  legacy_net: 'legacy',
  adapter_storm: 'adapter',
  client_storm: 'clients',
};

function chooseFaults(rng: Rng, max: number, kinds: readonly FaultKind[]): FaultKind[] {
  const n = rng.int(1, max);
  const out: FaultKind[] = [];
  for (let tries = 0; out.length < n && tries < 50; tries++) {
    const k = rng.pick(kinds);
    if (!out.some((o) => PART[o] === PART[k])) out.push(k);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const rng = new Rng(o.seed);
  const started = Date.now();
  const deadline = started + o.minutes * 60_000;
  o.log(`chaos: seed ${o.seed}, up to ${o.rounds} rounds / ${o.minutes} min`);
  const world = await World.start(o);
  // Without a tmpfs of its own (not root) devhost's disk cannot be filled safely: that kind is left out.
  const kindsUsed = (o.kinds ?? FAULT_KINDS).filter(
    (k) => k !== 'disk_full' || typeof world.disk !== 'string',
  );
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, { rounds: 0, maxRecoveryMs: 0 }])) as Record<
    FaultKind,
    FaultStats
  >;
  let clientKills = 0;
  let adapterKills = 0;
  const kills = (): KillCounts => ({
    adapterKills,
    devhostCrashes: faults.devhost_crash.rounds,
    brokerRestarts: faults.broker_restart.rounds,
    clientKills,
  });
  let rounds = 0;
  let violations: Violation[] = [];
  let parityCompared = 0;
  let stored = 0;
  let applied = 0;
  let checkedAt = -1;
  const failures: ChaosReport['failures'] = [];
  let failed = true;
  try {
    for (let round = 0; round < o.rounds && Date.now() < deadline; round++) {
      if (o.targets && reached(kills(), o.targets)) {
        o.log(`chaos: every target reached after ${rounds} rounds: ${progressText(kills(), o.targets)}`);
        break;
      }
      const kinds =
        o.firstEach && round < kindsUsed.length
          ? [kindsUsed[round] as FaultKind]
          : o.targets
            ? chooseForTargets(rng, kindsUsed, kills(), o.targets)
            : chooseFaults(rng, o.maxCombined, kindsUsed);
      const [lo, hi] = o.stormSteps ?? [2, 2];
      const stormSteps = rng.int(lo, hi);
      o.log(`round ${round + 1}: ${kinds.join(' + ')}`);
      // The wave is published while the faults hit; each fault starts at its own random offset.
      const wave = world.authority.publish(o.eventsPerRound);
      const results = await Promise.all(
        kinds.map(async (k): Promise<FaultResult> => {
          await sleep(rng.int(0, 1_500));
          try {
            return await runFault(k, world, rng, stormSteps);
          } catch (e) {
            // A finding, not the end of the run: recorded, and the next rounds go on.
            const message = e instanceof Error ? e.message : String(e);
            failures.push({ round: round + 1, what: k, message });
            o.log(`round ${round + 1}: ${k} FAILED: ${message.slice(0, 2000)}`);
            return { kind: k, detail: 'failed', recoveryMs: 0, failed: true };
          }
        }),
      );
      await wave;
      rounds = round + 1;
      for (const r of results) {
        if (r.failed) continue; // counted in failures, not as survived
        const s = faults[r.kind];
        s.rounds += 1;
        s.maxRecoveryMs = Math.max(s.maxRecoveryMs, r.recoveryMs);
        clientKills += r.clientKills ?? 0;
        adapterKills += r.adapterKills ?? 0;
      }
      o.log(
        `round ${rounds}: ${results.map((r) => `${r.kind} (${r.detail}) recovered in ${(r.recoveryMs / 1000).toFixed(2)} s`).join(', ')}; published ${world.authority.published.length}, stored ${world.watcher.total()}`,
      );
      o.log(
        `progress: ${progressText(kills(), o.targets)}; ${rounds} rounds, ${((Date.now() - started) / 60_000).toFixed(1)} of ${o.minutes} min, ${failures.length} failures`,
      );
      if (o.checkEvery > 0 && rounds % o.checkEvery === 0) {
        ({ violations } = await settleAndCheck(world, o, failures, rounds, false));
        checkedAt = rounds;
        if (violations.length > 0) break;
      }
    }
    // The last check also ends the parity run (it settles once, over the whole run).
    if (checkedAt !== rounds || world.parity)
      ({ violations, parityCompared } = await settleAndCheck(world, o, failures, rounds, true));
    stored = world.watcher.total();
    for (let i = 0; i < world.clients.length; i++)
      applied += (await readJournal(`c${i}`, world.journal(i))).entries.filter(
        (e) => e.type === 'applied',
      ).length;
    failed = false;
  } finally {
    // Kept for diagnosis when anything went wrong: broker and devhost data, client journals.
    const keep = o.keepDir || failed || violations.length > 0;
    if (keep) o.log(`chaos: work dir kept: ${world.dir}`);
    await world.stop(keep);
  }
  const report: ChaosReport = {
    seed: o.seed,
    kinds: kindsUsed,
    rounds,
    minutes: (Date.now() - started) / 60_000,
    faults,
    clientKills,
    kills: kills(),
    ...(o.targets ? { targets: o.targets } : {}),
    published: world.authority.published.length,
    retired: ((below) => world.authority.published.filter((p) => isRetired(p, below)).length)(
      retiredBelow(world.truncations),
    ),
    stored,
    clientEventsApplied: applied,
    violations,
    failures,
    parityCompared,
    counts: countByKind(violations),
  };
  return report;
}

/** Every fault has healed itself: waits until all is stored and every client caught up, then checks. */
async function settleAndCheck(
  world: World,
  o: ChaosOptions,
  failures: ChaosReport['failures'],
  round: number,
  final: boolean,
): Promise<{ violations: Violation[]; parityCompared: number }> {
  const published = world.authority.published.length;
  o.log(`chaos: settling: waiting for ${published} events in SpacetimeDB and at every client`);
  try {
    await world.watcher.until(() => world.watcher.total() >= published, 300_000, `${published} stored`);
  } catch (e) {
    o.log(`chaos: ${String(e)}`); // the checker below says what is missing
  }
  const db = await readDatabase(world.target, 120_000);
  const heads = new Map(db.heads.map((h) => [h.streamId, h.headSeq]));
  const behind = async () => {
    const out: string[] = [];
    for (let i = 0; i < world.clients.length; i++) {
      const j = await readJournal(`c${i}`, world.journal(i));
      const last = new Map<string, bigint>();
      for (const e of j.entries) last.set(e.streamId, e.type === 'applied' ? e.seq : e.watermark);
      for (const [s, h] of heads)
        if (s !== PROBE_STREAM && (last.get(s) ?? 0n) < h)
          out.push(`client ${i} at ${last.get(s) ?? 0n} of ${s}'s ${h}`);
    }
    return out;
  };
  const until = Date.now() + 300_000;
  let lagging = await behind();
  while (lagging.length > 0 && Date.now() < until) {
    await sleep(500);
    lagging = await behind();
  }
  if (lagging.length > 0) {
    failures.push({
      round,
      what: 'settle',
      message: `clients never caught up: ${lagging.slice(0, 5).join('; ')}`,
    });
    o.log(`chaos: clients never caught up: ${lagging.slice(0, 5).join('; ')}`);
  }
  const clients = await Promise.all(
    world.clients.map((_, i) => readJournal(`chaos-client-${i}`, world.journal(i))),
  );
  const parity = final && world.parity ? await world.parity.finish() : undefined;
  if (parity)
    o.log(
      `chaos: parity with the legacy lane: ${parity.compared} events compared, ${parity.divergences} divergences (${parity.state})` +
        (parity.rebootstraps.length > 0
          ? `; the candidate client rebootstrapped ${parity.rebootstraps.join('; ')}`
          : ''),
    );
  const violations = checkInvariants(
    {
      published: world.authority.published,
      ...db,
      clients,
      truncations: world.truncations,
      ...(parity
        ? { parity: { divergences: parity.divergences, ...(parity.first ? { first: parity.first } : {}) } }
        : {}),
    },
    { ignoreStreams: [PROBE_STREAM] },
  );
  o.log(
    `chaos: checked ${published} published, ${db.stored.length} stored, ${clients.length} client journals: ${violations.length} violations`,
  );
  for (const v of violations.slice(0, 20)) o.log(`  violation: ${JSON.stringify(v)}`);
  return { violations, parityCompared: parity?.compared ?? 0 };
}
