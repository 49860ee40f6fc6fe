/**
 * `spacetime-sync bridge failed` lists outbox events a Nostr relay refused for good, with every
 * relay's delivery and reason; `spacetime-sync bridge retry <key>… | --all` gives them a fresh set of
 * attempts (the running bridge worker picks them up). Runs as a writer — the owner token sees every
 * target's outbox; a bridge worker's identity sees its own target's. Sharded (`SPACETIMEDB_SHARDS`,
 * or a local service with several shards), both go over every shard's outbox: each shard's worker
 * drains its own, so a failure can sit on any of them.
 *
 * Exit: 0 nothing failed / all retried; 1 failed events listed / the module refused a retry; 2 usage;
 * 3 SpacetimeDB unreachable.
 */
import { create, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type Command, Option } from 'commander';
import {
  BridgeDeliverySchema,
  type BridgeEvent,
  BridgeEventSchema,
  BridgeStatus,
} from '../../proto/gen/spacetime_sync/v1/bridge_pb.js';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import {
  jsonOption,
  resolveShards,
  resolveSpacetime,
  type SpacetimeOptions,
  spacetimeOptions,
} from '../options.js';

type DbConnection = import('../../module/bindings/index.js').DbConnection;

/** What operators see of a failed event: the contract's `BridgeEvent`, one delivery per relay. */
export type FailedEvent = BridgeEvent;

interface Opts extends SpacetimeOptions {
  readonly json?: boolean;
  readonly target?: string;
  readonly all?: boolean;
}

/** One database's outbox as a command sees it: the shard's name when sharded. */
interface Outbox {
  readonly shard?: string;
  readonly conn: DbConnection;
  readonly failed: FailedEvent[];
}

async function withFailed<T>(opts: Opts, use: (outboxes: Outbox[]) => Promise<T>): Promise<T> {
  const targets = resolveShards(opts) ?? [resolveSpacetime(opts)];
  const { connectModule } = await import('../spacetime-connection.js');
  const outboxes: Outbox[] = [];
  try {
    for (const target of targets) {
      const conn = await connectModule(target);
      const shard = 'name' in target && targets.length > 1 ? (target.name as string) : undefined;
      outboxes.push({ ...(shard ? { shard } : {}), conn, failed: [] });
      await new Promise<void>((resolve, reject) => {
        conn
          .subscriptionBuilder()
          .onApplied(() => resolve())
          .onError((ctx) => reject(new Error(`subscription refused: ${String(ctx.event)}`)))
          .subscribe([
            "SELECT * FROM bridge_outbox WHERE status = 'failed'",
            'SELECT * FROM bridge_delivery',
          ]);
      });
      outboxes[outboxes.length - 1] = {
        ...(shard ? { shard } : {}),
        conn,
        failed: failedEvents(conn, opts.target),
      };
    }
    return await use(outboxes);
  } finally {
    for (const o of outboxes) o.conn.disconnect();
  }
}

const STATUS: Record<string, BridgeStatus> = {
  pending: BridgeStatus.PENDING,
  sent: BridgeStatus.SENT,
  failed: BridgeStatus.FAILED,
};

function status(text: string): BridgeStatus {
  return STATUS[text] ?? BridgeStatus.UNSPECIFIED;
}

function failedEvents(conn: DbConnection, target: string | undefined): FailedEvent[] {
  const deliveries = [...conn.db.bridgeDelivery.iter()];
  return [...conn.db.bridgeOutbox.iter()]
    .filter((r) => r.status === 'failed' && (target === undefined || r.target === target))
    .sort((a, b) => (a.outboxId < b.outboxId ? -1 : 1))
    .map((r) =>
      create(BridgeEventSchema, {
        bridgeKey: r.bridgeKey,
        streamId: r.streamId,
        seq: r.seq,
        destination: r.target,
        payload: r.payload,
        status: status(r.status),
        attempts: r.attempts,
        ...(r.lastError === undefined ? {} : { lastError: r.lastError }),
        nostrKind: r.kind,
        maxAttempts: r.maxAttempts,
        updatedAt: timestampFromDate(r.updatedAt.toDate()),
        deliveries: deliveries
          .filter((d) => d.outboxId === r.outboxId)
          .map((d) =>
            create(BridgeDeliverySchema, {
              relay: d.relay,
              status: status(d.status),
              attempts: d.attempts,
              ...(d.lastError === undefined ? {} : { lastError: d.lastError }),
              eventId: d.eventId,
            }),
          ),
      }),
    );
}

function statusName(s: BridgeStatus): string {
  return (BridgeStatus[s] ?? 'UNSPECIFIED').toLowerCase();
}

function printFailed(outboxes: readonly Outbox[]): void {
  if (outboxes.every((o) => o.failed.length === 0)) console.log('no failed bridge events');
  for (const { shard, failed } of outboxes) {
    for (const e of failed) {
      console.log(
        `${e.bridgeKey}  ${shard ? `shard=${shard} ` : ''}target=${e.destination} stream=${e.streamId} seq=${e.seq} kind=${e.nostrKind} refusals=${e.attempts}`,
      );
      for (const d of e.deliveries) {
        const why = d.lastError ? `(${d.attempts}×) ${d.lastError}` : '';
        console.log(`  ${d.relay.padEnd(16)} ${statusName(d.status).padEnd(7)} ${why}`);
      }
    }
  }
}

async function listFailed(opts: Opts): Promise<number> {
  return withFailed(opts, async (outboxes) => {
    const failed = outboxes.flatMap((o) => o.failed);
    // --json is the contract's BridgeEvent in protobuf's canonical JSON, one per failed event.
    if (opts.json)
      console.log(
        JSON.stringify(
          failed.map((e) => toJson(BridgeEventSchema, e)),
          null,
          2,
        ),
      );
    else printFailed(outboxes);
    return failed.length === 0 ? ExitCode.Ok : ExitCode.NotOk;
  });
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Retries `bridgeKey` where it failed; a key no outbox lists as failed goes to every outbox, so the
 * module's own refusal (no such event, or not failed) is what the operator reads.
 */
async function retryOne(outboxes: readonly Outbox[], bridgeKey: string): Promise<string | undefined> {
  const holders = outboxes.filter((o) => o.failed.some((e) => e.bridgeKey === bridgeKey));
  const refusals: string[] = [];
  for (const o of holders.length > 0 ? holders : outboxes) {
    try {
      await o.conn.reducers.retryBridgeEvent({ bridgeKey });
      return undefined;
    } catch (e) {
      refusals.push(o.shard ? `${o.shard}: ${message(e)}` : message(e));
    }
  }
  return refusals.join('; ');
}

async function retry(keys: string[], opts: Opts): Promise<number> {
  if (keys.length > 0 === Boolean(opts.all)) throw new UsageError('name the bridge keys to retry, or --all');
  return withFailed(opts, async (outboxes) => {
    const chosen = opts.all ? outboxes.flatMap((o) => o.failed.map((e) => e.bridgeKey)) : keys;
    const results: { bridgeKey: string; retried: boolean; error?: string }[] = [];
    for (const bridgeKey of chosen) {
      const error = await retryOne(outboxes, bridgeKey);
      results.push({ bridgeKey, retried: error === undefined, ...(error === undefined ? {} : { error }) });
    }
    if (opts.json) console.log(JSON.stringify(results, null, 2));
    else {
      if (results.length === 0) console.log('no failed bridge events');
      for (const r of results)
        console.log(r.retried ? `retried ${r.bridgeKey}` : `refused ${r.bridgeKey}: ${r.error}`);
    }
    return results.every((r) => r.retried) ? ExitCode.Ok : ExitCode.NotOk;
  });
}

function withShared(cmd: Command): Command {
  cmd.addOption(new Option('--target <target>', 'only this outbox target (e.g. nostr)'));
  cmd.addOption(jsonOption());
  for (const o of spacetimeOptions()) cmd.addOption(o);
  return cmd;
}

export function register(program: Command): void {
  const cmd = program
    .command('bridge')
    .description('the Nostr bridge outbox: events relays refused for good, and retrying them');
  withShared(
    cmd
      .command('failed')
      .description(
        "list events a relay refused max_attempts times, with every relay's reason (exit 1 when any)",
      ),
  ).action(action((opts: Opts) => listFailed(opts)));
  withShared(
    cmd
      .command('retry')
      .description('give failed events a fresh set of attempts (exit 1 when the module refused one)')
      .argument('[bridge-key...]', 'bridge keys of failed events'),
  )
    .addOption(new Option('--all', 'every failed event (of --target, if given)'))
    .action(action((keys: string[], opts: Opts) => retry(keys, opts)));
}
