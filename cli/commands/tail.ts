/**
 * `spacetime-sync tail <stream> [--from N] [--store F]`: prints a stream's events as they arrive
 * (`stream<TAB>seq<TAB>kind<TAB>payload`; binary payloads as base64). With --store it resumes where
 * the last run stopped; --from starts at seq N whatever the store says. Replay progress, reconnect
 * countdowns and rebootstraps go to stderr. A first connection that fails, or a permanent failure at
 * any time (the client's typed error: wrong address, database or token), ends it with exit 3; other
 * lost connections are retried.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode, UnreachableError } from '../exit-codes.js';
import { resolveSpacetime, type SpacetimeOptions, spacetimeOptions } from '../options.js';

interface Options extends SpacetimeOptions {
  readonly from?: bigint;
  readonly store?: string;
}

function seq(v: string): bigint {
  if (!/^\d+$/.test(v) || BigInt(v) < 1n) throw new InvalidArgumentError(`a seq >= 1, got '${v}'`);
  return BigInt(v);
}

/** One event as a tab-separated line; payloads that are not printable text as `base64:…`. */
export function renderEvent(e: { streamId: string; seq: bigint; kind: string; payload: Uint8Array }): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(e.payload);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting binary payloads is the point
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
  const body = printable ? text : `base64:${Buffer.from(e.payload).toString('base64')}`;
  return `${e.streamId}\t${e.seq}\t${e.kind}\t${body}`;
}

export function register(program: Command): void {
  const cmd = program
    .command('tail')
    .description('print a stream as it arrives (replay first, then live); resume from --store')
    .argument('<stream>', 'stream id')
    .addOption(new Option('--from <seq>', 'start at this seq (overrides the store)').argParser(seq))
    .addOption(new Option('--store <file>', 'JSON file keeping the cursor between runs'));
  for (const o of spacetimeOptions()) cmd.addOption(o);
  cmd.action(
    action(async (stream: string, opts: Options) => {
      // The stream's shard when sharded (the one routing function, via ../options.ts).
      const target = resolveSpacetime(opts, stream);
      const { randomUUID } = await import('node:crypto');
      const { setGlobalLogLevel } = await import('spacetimedb');
      const { FileCursorStore, MemoryCursorStore } = await import('../../client/cursor-store.js');
      const { SyncClient } = await import('../../client/sync-client.js');
      // stdout carries the events; keep the SDK's own console chatter to warnings.
      setGlobalLogLevel('warn');
      let failed: ((e: Error) => void) | undefined;
      const firstConnectFailed = new Promise<never>((_, reject) => {
        failed = reject;
      });
      let connected = false;
      let lastProgress = 0;
      const client = await SyncClient.open([stream], {
        uri: target.uri,
        database: target.database,
        ...(target.token ? { token: target.token } : {}),
        clientId: `tail-${randomUUID()}`,
        store: opts.store ? new FileCursorStore(opts.store) : new MemoryCursorStore(),
        ...(opts.from !== undefined ? { startAfter: new Map([[stream, opts.from - 1n]]) } : {}),
        onEvent: (_s, e) => {
          process.stdout.write(
            `${renderEvent({ streamId: e.streamId, seq: e.seq, kind: e.kind, payload: e.payload })}\n`,
          );
        },
        onProgress: (s, applied, head) => {
          if (head - applied > 1000n || Date.now() - lastProgress > 1000) {
            lastProgress = Date.now();
            process.stderr.write(`replay ${s}: at ${applied} of ${head}\n`);
          }
        },
        onRebootstrap: (info) => {
          process.stderr.write(
            `rebootstrap ${info.streamId}: ${info.reason.kind}; replaying from ${info.lowWatermark} (epoch ${info.epoch})\n`,
          );
        },
        onState: (state, detail) => {
          if (state === 'replaying' || state === 'live') connected = true;
          if (state === 'backoff' && !connected) {
            failed?.(
              new UnreachableError(
                `cannot open database '${target.database}' at ${target.uri} as ${target.tokenSource}: ${(detail ?? '').replace(/; retrying in .*/, '')}`,
              ),
            );
            return;
          }
          process.stderr.write(`state: ${state}${detail ? ` (${detail})` : ''}\n`);
        },
      });
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      // A permanent failure at any time (refused token, unknown database, not SpacetimeDB) closes
      // the client with a typed error; that ends the command too.
      const closedByError = client.whenClosed().then((error) => {
        if (error)
          throw new UnreachableError(`${target.uri}, database '${target.database}': ${error.message}`);
      });
      try {
        await Promise.race([stopped, firstConnectFailed, closedByError]);
      } finally {
        await client.close();
      }
      return ExitCode.Ok;
    }),
  );
}
