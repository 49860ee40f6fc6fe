/**
 * `spacetime-sync bridge failed` lists outbox events a Nostr relay refused for good, with every
 * relay's delivery and reason; `spacetime-sync bridge retry <key>… | --all` gives them a fresh set of
 * attempts (the running bridge worker picks them up). Runs as a writer — the owner token sees every
 * target's outbox; a bridge worker's identity sees its own target's.
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
import { jsonOption, resolveSpacetime, type SpacetimeOptions, spacetimeOptions } from '../options.js';

type DbConnection = import('../../module/bindings/index.js').DbConnection;

/** What operators see of a failed event: the contract's `BridgeEvent`, one delivery per relay. */
export type FailedEvent = BridgeEvent;

interface Opts extends SpacetimeOptions {
  readonly json?: boolean;
  readonly target?: string;
  readonly all?: boolean;
}

async function withFailed<T>(
  opts: Opts,
  use: (conn: DbConnection, failed: FailedEvent[]) => Promise<T>,
): Promise<T> {
  const target = resolveSpacetime(opts);
  const { connectModule } = await import('../spacetime-connection.js');
  const conn = await connectModule(target);
  try {
    await new Promise<void>((resolve, reject) => {
      conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .onError((ctx) => reject(new Error(`subscription refused: ${String(ctx.event)}`)))
        .subscribe(["SELECT * FROM bridge_outbox WHERE status = 'failed'", 'SELECT * FROM bridge_delivery']);
    });
    return await use(conn, failedEvents(conn, opts.target));
  } finally {
    conn.disconnect();
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

function printFailed(events: readonly FailedEvent[]): void {
  if (events.length === 0) console.log('no failed bridge events');
  for (const e of events) {
    console.log(
      `${e.bridgeKey}  target=${e.destination} stream=${e.streamId} seq=${e.seq} kind=${e.nostrKind} refusals=${e.attempts}`,
    );
    for (const d of e.deliveries) {
      const why = d.lastError ? `(${d.attempts}×) ${d.lastError}` : '';
      console.log(`  ${d.relay.padEnd(16)} ${statusName(d.status).padEnd(7)} ${why}`);
    }
  }
}

async function listFailed(opts: Opts): Promise<number> {
  return withFailed(opts, async (_conn, failed) => {
    // --json is the contract's BridgeEvent in protobuf's canonical JSON, one per failed event.
    if (opts.json)
      console.log(
        JSON.stringify(
          failed.map((e) => toJson(BridgeEventSchema, e)),
          null,
          2,
        ),
      );
    else printFailed(failed);
    return failed.length === 0 ? ExitCode.Ok : ExitCode.NotOk;
  });
}

async function retry(keys: string[], opts: Opts): Promise<number> {
  if (keys.length > 0 === Boolean(opts.all)) throw new UsageError('name the bridge keys to retry, or --all');
  return withFailed(opts, async (conn, failed) => {
    const chosen = opts.all ? failed.map((e) => e.bridgeKey) : keys;
    const results: { bridgeKey: string; retried: boolean; error?: string }[] = [];
    for (const bridgeKey of chosen) {
      try {
        await conn.reducers.retryBridgeEvent({ bridgeKey });
        results.push({ bridgeKey, retried: true });
      } catch (e) {
        results.push({
          bridgeKey,
          retried: false,
          error: e instanceof Error ? e.message : String(e),
        });
      }
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
