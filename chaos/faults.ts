/**
 * The faults a chaos run injects, one function each: inject, hold for a random while, heal, then
 * wait for the recovery signal — an event published to every stream after the heal stored in
 * SpacetimeDB (or, for client faults, a marker reaching the affected clients). The time from heal to that signal is the
 * fault's recovery time.
 */
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProxyMode } from './net/tcp-proxy.js';
import { offlineTruncate } from './offline-truncate.js';
import { appliedMarker } from './procs/client-proc.js';
import { startDevhostProc } from './procs/devhost-proc.js';
import type { Rng } from './rng.js';
import { adapterStorm, clientStorm } from './storms.js';
import { MARKER_STREAM, type World } from './world.js';

export const FAULT_KINDS = [
  'adapter_kill',
  'devhost_crash',
  'broker_restart',
  'broker_unreachable',
  'net_adapter',
  'net_client',
  'client_kill',
  'mass_reconnect',
  'offline_truncate',
  'disk_full',
  'legacy_crash',
  'legacy_net',
  'adapter_storm',
  'client_storm',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultResult {
  readonly kind: FaultKind;
  readonly detail: string;
  readonly recoveryMs: number;
  /** Client processes killed (client_kill, mass_reconnect restart them all). */
  readonly clientKills?: number;
  /** Adapter processes killed (adapter_kill: 1, adapter_storm: each of its kills). */
  readonly adapterKills?: number;
  /** The recovery signal never came (the runner records the failure). */
  readonly failed?: true;
}

const RECOVERY_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Heal happened at `healedAt`: publish one event to every stream and wait until SpacetimeDB stored
 * all of them. A stream's seqs are gapless, so each stream then also holds everything published to it
 * during the fault: the backlog of every partition is through, not just that of the one partition
 * a single marker event would show.
 */
async function storedAfter(world: World, healedAt: number): Promise<number> {
  await world.progressEverywhere(RECOVERY_TIMEOUT_MS);
  return Date.now() - healedAt;
}

/** Heal happened at `healedAt`: publish a marker and wait until each of `clients` applied it. */
async function appliedAfter(world: World, clients: number[], healedAt: number): Promise<number> {
  const seq = await world.marker();
  await Promise.all(
    clients.map((i) => {
      const p = world.clients[i];
      if (!p) throw new Error(`client ${i} is not running`);
      return appliedMarker(p, seq, RECOVERY_TIMEOUT_MS);
    }),
  );
  return Date.now() - healedAt;
}

/** The newest commit-log segment of the devhost data dir (`<20 digits>.log`). */
async function lastSegment(dir: string): Promise<string | undefined> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (/^\d{20}\.log$/.test(e.name)) found.push(join(d, e.name));
    }
  };
  await walk(dir);
  return found.sort((a, b) => (a.split('/').pop() ?? '').localeCompare(b.split('/').pop() ?? '')).pop();
}

/** `stormSteps`: how many kill steps a storm fault makes (the runner draws it per round). */
export async function runFault(
  kind: FaultKind,
  world: World,
  rng: Rng,
  stormSteps = 2,
): Promise<FaultResult> {
  switch (kind) {
    case 'adapter_storm': {
      const s = await adapterStorm(world, rng, stormSteps);
      return { kind, detail: s.detail, recoveryMs: s.maxRecoveryMs, adapterKills: s.kills };
    }
    case 'client_storm': {
      const s = await clientStorm(world, rng, stormSteps);
      return { kind, detail: s.detail, recoveryMs: s.maxRecoveryMs, clientKills: s.kills };
    }
    case 'adapter_kill': {
      const i = rng.int(0, world.adapters.length - 1);
      await world.adapters[i]?.kill9();
      await sleep(rng.int(0, 2_000));
      const healedAt = Date.now();
      await world.startAdapter(i);
      return {
        kind,
        detail: `adapter-${i}`,
        recoveryMs: await storedAfter(world, healedAt),
        adapterKills: 1,
      };
    }
    case 'devhost_crash': {
      await world.devhost.proc.kill9();
      const torn = rng.next() < 0.5;
      const segment = torn ? await lastSegment(join(world.dir, 'devhost')) : undefined;
      // A write cut short by the crash: half a record's worth of bytes after the last whole one.
      if (segment) await appendFile(segment, Buffer.from('\u0001torn-record-cut-short-by-kill-9'));
      await sleep(rng.int(0, 2_000));
      const healedAt = Date.now();
      world.devhost = await startDevhostProc(join(world.dir, 'devhost'), world.devhost.port);
      return {
        kind,
        detail: segment ? 'torn last record' : 'clean log',
        recoveryMs: await storedAfter(world, healedAt),
      };
    }
    case 'broker_restart': {
      await world.broker.restart();
      return { kind, detail: 'SIGTERM + start, data kept', recoveryMs: await storedAfter(world, Date.now()) };
    }
    case 'broker_unreachable': {
      const ms = rng.int(2_000, 8_000);
      await world.broker.freeze();
      await sleep(ms);
      await world.broker.thaw();
      return { kind, detail: `frozen ${ms} ms`, recoveryMs: await storedAfter(world, Date.now()) };
    }
    case 'net_adapter':
    case 'net_client': {
      const proxy = kind === 'net_adapter' ? world.adapterProxy : world.clientProxy;
      const mode = rng.pick<ProxyMode | 'delay'>(['delay', 'drop', 'reset', 'blackhole']);
      const ms = rng.int(1_000, 5_000);
      if (mode === 'delay') proxy.set('pass', rng.int(50, 400));
      else proxy.set(mode);
      await sleep(ms);
      proxy.set('pass');
      const healedAt = Date.now();
      const recoveryMs =
        kind === 'net_adapter'
          ? await storedAfter(world, healedAt)
          : await appliedAfter(
              world,
              world.clients.map((_, i) => i),
              healedAt,
            );
      return { kind, detail: `${mode} ${ms} ms`, recoveryMs };
    }
    case 'client_kill': {
      const i = rng.int(0, world.clients.length - 1);
      await world.clients[i]?.kill9();
      await sleep(rng.int(0, 1_000));
      const healedAt = Date.now();
      world.startClient(i);
      return {
        kind,
        detail: `client-${i}`,
        recoveryMs: await appliedAfter(world, [i], healedAt),
        clientKills: 1,
      };
    }
    case 'legacy_crash':
    case 'legacy_net': {
      const parity = world.parity;
      if (!parity) throw new Error('this run has no legacy lane');
      let detail: string;
      if (kind === 'legacy_crash') {
        const pause = rng.int(0, 2_000);
        detail = `kill -9, restarted on its journal after ${pause} ms`;
        await parity.crash(pause);
      } else {
        const mode = rng.pick<ProxyMode>(['drop', 'reset', 'blackhole']);
        const ms = rng.int(1_000, 5_000);
        detail = `legacy client socket ${mode} ${ms} ms`;
        parity.proxy.set(mode);
        await sleep(ms);
        parity.proxy.set('pass');
      }
      // Recovered when a marker published after the heal reaches the legacy client.
      const healedAt = Date.now();
      const seq = await world.marker();
      for (const until = Date.now() + RECOVERY_TIMEOUT_MS; !parity.legacyHas(MARKER_STREAM, seq); ) {
        if (Date.now() > until)
          throw new Error(`legacy client never got marker ${seq}: ${parity.legacy.describe()}`);
        await sleep(100);
      }
      return { kind, detail, recoveryMs: Date.now() - healedAt };
    }
    case 'disk_full': {
      // devhost's own tmpfs shrunk to what it uses: its commit log gets ENOSPC until the space returns.
      const disk = world.disk;
      if (typeof disk === 'string') throw new Error(`no tmpfs for devhost's data: ${disk}`);
      const ms = rng.int(2_000, 8_000);
      const used = await disk.fill();
      // Commits in flight when it filled may still land; after a second nothing should (shown in the detail).
      await sleep(1_000);
      const storedWhileFull = world.watcher.total();
      await sleep(ms);
      const storedWhileFullEnd = world.watcher.total();
      await disk.free();
      const healedAt = Date.now();
      return {
        kind,
        detail: `full at ${(used / 2 ** 20).toFixed(1)} MiB for ${ms + 1_000} ms, ${storedWhileFullEnd - storedWhileFull} events stored in its last ${ms} ms`,
        recoveryMs: await storedAfter(world, healedAt),
      };
    }
    case 'offline_truncate': {
      // Clients stopped, history dropped under them (retention past their watermark, or a reset
      // moving the epoch), clients restarted: each must rebootstrap (judged by the checker).
      const t = await offlineTruncate(world, rng);
      world.truncations.push(...t.truncations);
      await sleep(rng.int(0, 1_000));
      const healedAt = Date.now();
      for (const i of t.offline) world.startClient(i);
      await appliedAfter(
        world,
        world.clients.map((_, i) => i),
        healedAt,
      );
      // Recovered when the marker is applied everywhere and each restarted client has reported the
      // truncation of each stream (client-main.ts prints `rebootstrap <stream> <reason>`; the
      // rebootstrap waits a jittered delay, so it may come after the marker). Missing reports are
      // judged by the invariant checker, not here.
      const said = () =>
        t.offline.flatMap((i) =>
          [...(world.clients[i]?.output() ?? '').matchAll(/^rebootstrap (\S+) (\S+)$/gm)].map(
            (m) => `${m[1]} ${m[2]}`,
          ),
        );
      const want = t.offline.length * t.truncations.length;
      for (const until = Date.now() + 60_000; said().length < want && Date.now() < until; ) await sleep(100);
      const recoveryMs = Date.now() - healedAt;
      return {
        kind,
        detail: `${t.detail}; restarted clients reported ${said().length} of ${want} truncations (${[...new Set(said().map((x) => x.split(' ')[1]))].join(', ') || 'none'})`,
        recoveryMs,
        clientKills: t.offline.length,
      };
    }
    case 'mass_reconnect': {
      // Every client killed and restarted at once: they all replay and resubscribe together.
      const all = world.clients.map((_, i) => i);
      await Promise.all(all.map((i) => world.clients[i]?.kill9()));
      const healedAt = Date.now();
      for (const i of all) world.startClient(i);
      return {
        kind,
        detail: `${all.length} clients`,
        recoveryMs: await appliedAfter(world, all, healedAt),
        clientKills: all.length,
      };
    }
  }
}
