/**
 * The fault `offline_truncate`: some desktop clients stop (kill -9, their cursor journals kept), the
 * stream moves on without them, and its history is dropped under them — retention truncating past
 * their watermark (the compaction may also move the epoch, when their checkpoints point into what
 * it drops) or a reset that moves the epoch outright. On restart each such client must notice and
 * rebootstrap (the client library's `below_low_watermark` / `epoch_changed`), never resume as if its
 * history were gapless; the invariant checker judges that from the recorded truncation
 * (chaos/invariants/truncation-check.ts).
 */
import { connectModule } from '../cli/spacetime-connection.js';
import { readJournal } from './invariants/collect.js';
import type { Truncation } from './invariants/history.js';
import type { Rng } from './rng.js';
import type { World } from './world.js';

/** How many newest events a truncation keeps; the offline clients are further behind than this. */
const KEEP = 3n;
const ADMIN_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type TruncateMode = 'retention' | 'reset';

export interface OfflineTruncation {
  readonly offline: number[];
  readonly truncations: Truncation[];
  readonly detail: string;
}

/** The owner's reducer calls, retried while SpacetimeDB is away (a devhost crash in the same round). */
async function asOwner<T>(
  world: World,
  what: string,
  fn: (conn: Awaited<ReturnType<typeof connectModule>>) => Promise<T>,
): Promise<T> {
  const until = Date.now() + ADMIN_TIMEOUT_MS;
  for (;;) {
    try {
      const conn = await connectModule({ ...world.target, tokenSource: 'the chaos run (owner)' });
      try {
        return await fn(conn);
      } finally {
        conn.disconnect();
      }
    } catch (e) {
      if (Date.now() > until) throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      await sleep(500);
    }
  }
}

/** The stream's row as SpacetimeDB has it now. */
function streamRow(world: World, streamId: string) {
  return asOwner(world, `reading ${streamId}`, async (conn) => {
    await new Promise<void>((resolve, reject) => {
      conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .onError((ctx) => reject(ctx.event ?? new Error('subscription failed')))
        .subscribe(`SELECT * FROM sync_stream WHERE stream_id = '${streamId.replaceAll("'", "''")}'`);
    });
    const row = conn.db.syncStream.streamId.find(streamId);
    if (!row) throw new Error(`no stream '${streamId}'`);
    return { headSeq: row.headSeq, lowWatermark: row.lowWatermark, epoch: row.epoch };
  });
}

export async function offlineTruncate(world: World, rng: Rng): Promise<OfflineTruncation> {
  // At least one client stays online (it must see the same history change live), at least one goes.
  const all = world.clients.map((_, i) => i);
  const offline = all.filter(() => rng.next() < 0.5).slice(0, Math.max(1, all.length - 1));
  if (offline.length === 0) offline.push(rng.int(0, all.length - 1));
  const entriesBefore = new Map<number, number>();
  for (const i of offline) {
    await world.clients[i]?.kill9();
    entriesBefore.set(i, (await readJournal(`c${i}`, world.journal(i))).entries.length);
  }
  const streams = rng.int(1, 2) === 1 ? [rng.pick(world.truncatable)] : world.truncatable.slice(0, 2);
  const truncations: Truncation[] = [];
  const modes: string[] = [];
  for (const streamId of streams) {
    const mode = rng.pick<TruncateMode>(['retention', 'reset']);
    // The stream moves on without the offline clients, further than what a truncation keeps.
    const keys = await world.authority.publish(Number(KEEP) * 3, streamId);
    const want = world.authority.published.filter((p) => p.streamId === streamId).length;
    await world.watcher.until(
      () => (world.watcher.heads.get(streamId) ?? 0n) >= BigInt(want),
      ADMIN_TIMEOUT_MS,
      `${keys.length} events of ${streamId} stored`,
    );
    if (mode === 'retention')
      await asOwner(world, `truncating ${streamId}`, async (conn) => {
        await conn.reducers.configureStream({ streamId, retainMinEvents: KEEP, compactByKey: false });
        await conn.reducers.compactStream({ streamId });
        // Retention off again: the maintenance timer must not keep truncating the live clients.
        await conn.reducers.configureStream({ streamId, retainMinEvents: 0n, compactByKey: false });
      });
    else await asOwner(world, `resetting ${streamId}`, (conn) => conn.reducers.resetStream({ streamId }));
    const row = await streamRow(world, streamId);
    truncations.push({
      streamId,
      lowWatermark: row.lowWatermark,
      epoch: row.epoch,
      offline: offline.map((i) => ({
        clientId: `chaos-client-${i}`,
        entriesBefore: entriesBefore.get(i) ?? 0,
      })),
    });
    modes.push(`${mode} ${streamId} to low ${row.lowWatermark} epoch ${row.epoch}`);
  }
  return { offline, truncations, detail: `${offline.length} offline; ${modes.join('; ')}` };
}
