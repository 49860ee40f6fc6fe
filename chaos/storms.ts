/**
 * Storm faults: many kills of one kind of part in one round, each restarted at once, while events
 * keep coming. A long run needs them to reach the counts (1,000 adapter kills, 1,000
 * client kills) in about an hour; a round of one kill each cost 15–30 s.
 *
 * - `adapter_storm`: step after step, one, two or all of the adapters (never the same one twice in
 *   a step) get `kill -9` while a batch is being published (the kill lands mid-batch), are restarted at
 *   once, and the step waits until each restarted adapter is ready and every stream progressed again
 *   (one event published to each after the restart is stored: whichever partitions the killed
 *   adapters held, they are consumed again). Recovery of a kill: its restart until that progress.
 * - `client_storm`: step after step, a random non-empty subset of the desktop clients is killed
 *   (mass kills included), restarted at once from their cursor stores, and the step waits until each
 *   restarted client applied a marker published after the restart.
 */
import { appliedMarker } from './procs/client-proc.js';
import type { Rng } from './rng.js';
import type { World } from './world.js';

const STEP_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StormResult {
  /** Kills done (each one restarted and recovered). */
  readonly kills: number;
  /** The slowest recovery of a kill of this storm. */
  readonly maxRecoveryMs: number;
  readonly detail: string;
}

/** `n` distinct indices of 0..size-1, at random. */
function distinct(rng: Rng, size: number, n: number): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  const out: number[] = [];
  while (out.length < n && all.length > 0) out.push(all.splice(rng.int(0, all.length - 1), 1)[0] as number);
  return out;
}

export async function adapterStorm(world: World, rng: Rng, steps: number): Promise<StormResult> {
  let kills = 0;
  let max = 0;
  for (let step = 0; step < steps; step++) {
    // One, two or (a fifth of the steps) every adapter of the group at once.
    const r = rng.next();
    const victims = distinct(rng, world.adapters.length, r < 0.4 ? 1 : r < 0.8 ? 2 : world.adapters.length);
    // A batch in flight while they die: the kill lands mid-batch.
    const batch = world.authority.publish(rng.int(20, 80));
    await sleep(rng.int(0, 300));
    await Promise.all(victims.map((i) => world.adapters[i]?.kill9()));
    kills += victims.length;
    const restartedAt = Date.now();
    await Promise.all(victims.map((i) => world.startAdapter(i)));
    await batch;
    await world.progressEverywhere(STEP_TIMEOUT_MS);
    max = Math.max(max, Date.now() - restartedAt);
    await sleep(rng.int(0, 500));
  }
  return { kills, maxRecoveryMs: max, detail: `${kills} adapter kills in ${steps} steps` };
}

export async function clientStorm(world: World, rng: Rng, steps: number): Promise<StormResult> {
  let kills = 0;
  let max = 0;
  for (let step = 0; step < steps; step++) {
    const n = world.clients.length;
    // Sometimes every client at once (a mass reconnect), else a random subset.
    const victims = distinct(rng, n, rng.next() < 0.25 ? n : rng.int(1, n));
    await Promise.all(victims.map((i) => world.clients[i]?.kill9()));
    kills += victims.length;
    const restartedAt = Date.now();
    for (const i of victims) world.startClient(i);
    const seq = await world.marker();
    await Promise.all(
      victims.map((i) => {
        const p = world.clients[i];
        if (!p) throw new Error(`client ${i} is not running`);
        return appliedMarker(p, seq, STEP_TIMEOUT_MS);
      }),
    );
    max = Math.max(max, Date.now() - restartedAt);
    await sleep(rng.int(0, 1_000));
  }
  return { kills, maxRecoveryMs: max, detail: `${kills} client kills in ${steps} steps` };
}
