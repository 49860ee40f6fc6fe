/**
 * `spacetime-sync tail <stream> [--from <seq>] [--store <file>] [--uri <url>] [--db <name>] [--token <t>]`:
 * prints a stream's events as they arrive. With --store it resumes where the last run stopped;
 * long replays report progress on stderr.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setGlobalLogLevel } from 'spacetimedb';
import { type CursorStore, FileCursorStore, MemoryCursorStore } from './cursor-store.js';
import { SyncClient, type SyncEvent } from './sync-client.js';

const USAGE =
  'usage: spacetime-sync tail <stream> [--from <seq>] [--store <file>] [--uri <url>] [--db <name>] [--token <token>]';

function render(e: SyncEvent): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(e.payload);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting binary payloads is the point
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
  const body = printable ? text : `base64:${Buffer.from(e.payload).toString('base64')}`;
  return `${e.stream_id}\t${e.seq}\t${e.kind}\t${body}`;
}

export async function runTail(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    console.error(`spacetime-sync tail: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { stream, from, storePath, uri, db, token } = parsed;
  // stdout carries the events; keep the SDK's own chatter (it logs to the console) to warnings.
  setGlobalLogLevel('warn');
  const store: CursorStore = storePath ? new FileCursorStore(storePath) : new MemoryCursorStore();
  if (from !== undefined) {
    // An explicit --from wins over the stored cursor; the epoch is learnt from the stream.
    const existing = await store.load(stream);
    await store.save(stream, { epoch: existing?.epoch ?? 0n, watermark: from - 1n });
  }
  let lastProgress = 0;
  const client = await SyncClient.open([stream], {
    uri,
    database: db,
    ...(token ? { token } : {}),
    clientId: `tail-${randomUUID()}`,
    store,
    onEvent: (_s, e) => {
      process.stdout.write(`${render(e)}\n`);
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
    onState: (state, detail) => process.stderr.write(`state: ${state}${detail ? ` (${detail})` : ''}\n`),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await client.close();
  return 0;
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      store: { type: 'string' },
      uri: { type: 'string' },
      db: { type: 'string' },
      token: { type: 'string' },
    },
  });
  const stream = positionals[0];
  if (!stream || positionals.length > 1) throw new Error('give exactly one stream');
  let from: bigint | undefined;
  if (values.from !== undefined) {
    if (!/^\d+$/.test(values.from) || BigInt(values.from) < 1n)
      throw new Error(`--from must be a seq >= 1, got ${values.from}`);
    from = BigInt(values.from);
  }
  const uri = values.uri ?? process.env.SPACETIMEDB_URI;
  if (!uri) throw new Error('set --uri or SPACETIMEDB_URI (e.g. the devhost url printed by npm start)');
  return {
    stream,
    from,
    storePath: values.store,
    uri,
    db: values.db ?? process.env.SPACETIMEDB_DB ?? 'spacetime-sync',
    token: values.token ?? process.env.SPACETIMEDB_TOKEN,
  };
}
