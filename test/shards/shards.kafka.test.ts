/**
 * Three adapters, three shards (issue 16): real `spacetime-sync start` processes in one consumer
 * group, routing over three devhost processes (`SPACETIMEDB_SHARDS`, one writer per shard). Forced
 * rebalances and a kill -9 mid-batch must lose and duplicate nothing on any shard, each stream must
 * sit on the shard the routing function names; a shard killed -9 must not stop the other shards'
 * streams, /readyz must name it, and once it is back it must get every event it missed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Authority } from '../../chaos/authority.js';
import { HeadWatcher } from '../../chaos/head-watcher.js';
import { checkInvariants } from '../../chaos/invariants/check.js';
import { readDatabase } from '../../chaos/invariants/collect.js';
import type { StoredEvent, StreamHead } from '../../chaos/invariants/history.js';
import type { Proc } from '../../chaos/procs/child.js';
import { shardFor } from '../../shared/shards/route.js';
import { kafkaBrokers } from '../support/kafka-env.js';
import { httpUrl, ShardedStack } from './testing/sharded-stack.js';

const stacks: ShardedStack[] = [];
const stops: (() => unknown)[] = [];
afterAll(async () => {
  for (const s of stops) await s();
  for (const s of stacks) await s.cleanup();
});

async function stack(partitions: number): Promise<ShardedStack> {
  const s = new ShardedStack();
  stacks.push(s);
  await s.start(3, partitions);
  return s;
}

function watchers(s: ShardedStack): Map<string, HeadWatcher> {
  const w = new Map(s.shards.map((x) => [x.name, new HeadWatcher(x.target)]));
  stops.push(() => {
    for (const x of w.values()) x.stop();
  });
  return w;
}

const sum = (w: Map<string, HeadWatcher>) => [...w.values()].reduce((n, x) => n + x.total(), 0);

/** Every shard's rows; each stream must be on its routed shard only. */
async function readAll(
  s: ShardedStack,
): Promise<{ stored: StoredEvent[]; heads: StreamHead[]; misplaced: string[] }> {
  const stored: StoredEvent[] = [];
  const heads: StreamHead[] = [];
  const misplaced: string[] = [];
  for (const shard of s.shards) {
    const db = await readDatabase(shard.target);
    stored.push(...db.stored);
    heads.push(...db.heads);
    for (const h of db.heads) {
      if (shardFor(s.map, h.streamId) !== shard.name) misplaced.push(`${h.streamId} on ${shard.name}`);
    }
  }
  return { stored, heads, misplaced };
}

async function appendedFromKafka(p: Proc): Promise<number> {
  const text = await (await fetch(`${await httpUrl(p)}/metrics`)).text();
  return [
    ...text.matchAll(/^spacetime_sync_events_appended_total\{[^}]*source="kafka"[^}]*\} (\d+)/gm),
  ].reduce((n, m) => n + Number(m[1]), 0);
}

describe('three adapters over three shards', () => {
  it('forced rebalances and a kill -9 mid-batch lose and duplicate nothing on any shard', async () => {
    const s = await stack(6);
    const streams = Array.from({ length: 18 }, (_, i) => `sharded:${i}`);
    expect(new Set(streams.map((x) => shardFor(s.map, x))).size).toBe(3);
    const w = watchers(s);
    const authority = new Authority({ brokers: kafkaBrokers().join(','), topic: s.topic, streams });
    stops.push(() => authority.close());
    const stored = (n: number) =>
      expect
        .poll(() => sum(w), { timeout: 240_000, interval: 250, message: `${n} stored` })
        .toBeGreaterThanOrEqual(n);
    const a1 = await s.adapter('adapter-1');
    const a2 = await s.adapter('adapter-2');
    await authority.publish(600);
    await stored(300);
    const a3 = await s.adapter('adapter-3'); // joins: rebalance
    await authority.publish(600);
    await stored(900);
    await a1.stop(); // leaves gracefully: rebalance
    await authority.publish(1200);
    await stored(1200);
    const atKill = sum(w);
    await a2.kill9(); // mid-batch: its partitions move after the session timeout
    const a4 = await s.adapter('adapter-4'); // joins: rebalance
    await authority.publish(300);
    const total = 2700;
    await stored(total);

    const db = await readAll(s);
    expect(db.misplaced).toEqual([]);
    expect(
      checkInvariants({ published: authority.published, stored: db.stored, heads: db.heads, clients: [] }),
    ).toEqual([]);
    expect(authority.published).toHaveLength(total);
    expect(atKill).toBeLessThan(total);
    for (const shard of s.shards) expect(w.get(shard.name)?.total()).toBeGreaterThan(0);
    expect(await appendedFromKafka(a3)).toBeGreaterThan(0);
    expect(await appendedFromKafka(a4)).toBeGreaterThan(0);
  }, 600_000);

  it('one shard killed -9: the others keep delivering, /readyz names it, and back up it gets all it missed', async () => {
    const s = await stack(3);
    const streams = Array.from({ length: 12 }, (_, i) => `outage:${i}`);
    const down = 'shard-1';
    const onDown = streams.filter((x) => shardFor(s.map, x) === down);
    expect(onDown.length).toBeGreaterThan(0);
    expect(onDown.length).toBeLessThan(streams.length);
    const w = watchers(s);
    const authority = new Authority({ brokers: kafkaBrokers().join(','), topic: s.topic, streams });
    stops.push(() => authority.close());
    const adapters = [await s.adapter('outage-1'), await s.adapter('outage-2'), await s.adapter('outage-3')];
    await authority.publish(300);
    await expect.poll(() => sum(w), { timeout: 180_000, interval: 250 }).toBe(300);

    await s.killShard(down);
    const before = w.get(down)?.total() ?? 0;
    await authority.publish(600);
    // Every event of the live shards' streams arrives while shard-1 is down.
    const liveTotal = () => authority.published.filter((p) => shardFor(s.map, p.streamId) !== down).length;
    await expect
      .poll(() => (w.get('shard-0')?.total() ?? 0) + (w.get('shard-2')?.total() ?? 0), {
        timeout: 180_000,
        interval: 250,
      })
      .toBe(liveTotal());
    const url = await httpUrl(adapters[0] as Proc);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain(down);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`spacetime_sync_shard_connected{shard="${down}"} 0`);
    expect(metrics).toContain('spacetime_sync_shard_connected{shard="shard-0"} 1');

    await s.restartShard(down);
    await expect.poll(() => sum(w), { timeout: 240_000, interval: 250 }).toBe(900);
    expect(w.get(down)?.total()).toBeGreaterThan(before);
    const db = await readAll(s);
    expect(db.misplaced).toEqual([]);
    expect(
      checkInvariants({ published: authority.published, stored: db.stored, heads: db.heads, clients: [] }),
    ).toEqual([]);
    await expect
      .poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 60_000, interval: 250 })
      .toBe(200);
  }, 600_000);
});
