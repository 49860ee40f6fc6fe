/**
 * Moves one stream to another shard, in the order that loses nothing (runbooks/reshard.md):
 *
 * 1. plan: where the stream is, where it goes, its head; refused when the history was already cut by
 *    retention (seqs would not be kept) or the target holds a different history of it;
 * 2. copy: the stored events to the target in seq order, with their idempotency keys, authority seqs
 *    and payloads (so the seqs come out the same, and a Kafka event re-read later is a duplicate);
 *    an interrupted copy is simply run again;
 * 3. parity: the target's (seq, key, payload hash) list must equal the source's;
 * 4. switch: the move (stream, from, to, atSeq = head + 1) is added to the moves file every service,
 *    CLI and client reads, so writes and reads go to the target from then on;
 * 5. the source's stream is reset (its events dropped, its epoch bumped), so a client still reading
 *    the old shard rebootstraps instead of waiting there for events that no longer come.
 *
 * Writers must not append to the stream during steps 2-4: the runbook stops the adapters (Kafka
 * keeps what arrives meanwhile) and starts them again with the new moves file.
 */
import type { DbConnection } from '../../module/bindings/index.js';
import { appendMove } from '../../shared/shards/moves-file.js';
import { fingerprint, readStreamRows, type StreamRows } from './stream-rows.js';

export interface MovePlan {
  readonly stream: string;
  readonly from: string;
  readonly to: string;
  readonly head: bigint;
  readonly epoch: bigint;
  /** Events the target already holds (a copy run before and interrupted). */
  readonly alreadyCopied: number;
}

/** A move that must not go ahead, with the reason (exit 1). */
export class MoveRefused extends Error {
  override readonly name = 'MoveRefused';
}

export interface MoveSides {
  readonly stream: string;
  readonly from: { readonly name: string; readonly conn: DbConnection };
  readonly to: { readonly name: string; readonly conn: DbConnection };
}

export async function planMove(s: MoveSides): Promise<{ plan: MovePlan; source: StreamRows }> {
  if (s.from.name === s.to.name) throw new MoveRefused(`${s.stream} is already on ${s.to.name}`);
  const source = await readStreamRows(s.from.conn, s.stream);
  if (!source) throw new MoveRefused(`${s.from.name} holds no stream '${s.stream}'`);
  if (source.lowWatermark > 1n) {
    throw new MoveRefused(
      `${s.stream} has no history below seq ${source.lowWatermark} (retention cut it): a copy would renumber it`,
    );
  }
  if (BigInt(source.events.length) !== source.head) {
    throw new MoveRefused(
      `${s.from.name} holds ${source.events.length} events of ${s.stream} but its head is ${source.head}`,
    );
  }
  const target = fingerprint(await readStreamRows(s.to.conn, s.stream));
  const want = fingerprint(source);
  if (target.some((line, i) => line !== want[i])) {
    throw new MoveRefused(`${s.to.name} already holds a different history of ${s.stream}`);
  }
  return {
    plan: {
      stream: s.stream,
      from: s.from.name,
      to: s.to.name,
      head: source.head,
      epoch: source.epoch,
      alreadyCopied: target.length,
    },
    source,
  };
}

/** Steps 2-5; `say` reports each step as it completes. */
export async function performMove(
  s: MoveSides,
  o: { movesFile: string; say: (line: string) => void; batch?: number },
): Promise<MovePlan> {
  const { plan, source } = await planMove(s);
  const rest = source.events.slice(plan.alreadyCopied);
  const batch = o.batch ?? 100;
  for (let i = 0; i < rest.length; i += batch) {
    const events = rest.slice(i, i + batch).map(({ seq: _seq, ...event }) => event);
    await s.to.conn.reducers.appendSyncEvents({ events, cursor: undefined });
  }
  o.say(
    `copied ${rest.length} events of ${plan.stream} to ${plan.to} (${plan.alreadyCopied} were there already)`,
  );
  const copied = fingerprint(await readStreamRows(s.to.conn, plan.stream));
  const want = fingerprint(source);
  if (copied.length !== want.length || copied.some((line, i) => line !== want[i])) {
    throw new MoveRefused(
      `parity: ${plan.to} holds ${copied.length} events of ${plan.stream} differing from ${plan.from}'s ${want.length}; routing not switched`,
    );
  }
  o.say(`parity: ${plan.to} holds the same ${copied.length} events (seq, key, payload hash) as ${plan.from}`);
  appendMove(o.movesFile, { stream: plan.stream, from: plan.from, to: plan.to, atSeq: plan.head + 1n });
  o.say(`switched: ${plan.stream} routes to ${plan.to} from seq ${plan.head + 1n} (${o.movesFile})`);
  await s.from.conn.reducers.resetStream({ streamId: plan.stream });
  o.say(
    `reset ${plan.stream} on ${plan.from}: epoch ${plan.epoch} -> ${plan.epoch + 1n}; its clients rebootstrap`,
  );
  return plan;
}
