/**
 * The collector: reads what SpacetimeDB holds through its public surface (an SDK subscription as the
 * database owner, as any operator tool would) and the client journals from disk, into a History.
 */
import { readFile } from 'node:fs/promises';
import { DbConnection } from '../../module/bindings/index.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import type { ClientEntry, ClientHistory, StoredEvent, StreamHead } from './history.js';

export interface Target {
  readonly uri: string;
  readonly database: string;
  readonly token: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every `sync_event` and `sync_stream` row, read once. Rejects after `timeoutMs` without an answer. */
export function readDatabase(
  target: Target,
  timeoutMs = 30_000,
): Promise<{ stored: StoredEvent[]; heads: StreamHead[] }> {
  ensureWebSocket();
  return new Promise((resolve, reject) => {
    let conn: DbConnection | undefined;
    const timer = setTimeout(() => {
      conn?.disconnect();
      reject(new Error(`no snapshot from ${target.uri} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      conn?.disconnect();
      fn();
    };
    conn = DbConnection.builder()
      .withUri(target.uri)
      .withDatabaseName(target.database)
      .withToken(target.token)
      .withCompression('none')
      .onConnect((c) => {
        c.subscriptionBuilder()
          .onApplied(() =>
            done(() =>
              resolve({
                stored: [...c.db.syncEvent.iter()].map((e) => ({
                  streamId: e.streamId,
                  seq: e.seq,
                  key: e.idempotencyKey,
                  payloadHash: hex(e.payloadHash),
                })),
                heads: [...c.db.syncStream.iter()].map((s) => ({
                  streamId: s.streamId,
                  headSeq: s.headSeq,
                  lowWatermark: s.lowWatermark,
                  epoch: s.epoch,
                })),
              }),
            ),
          )
          .onError((ctx) => done(() => reject(ctx.event ?? new Error('snapshot subscription failed'))))
          .subscribe(['SELECT * FROM sync_event', 'SELECT * FROM sync_stream']);
      })
      .onConnectError((_ctx, err) => done(() => reject(err)))
      .build();
  });
}

type JournalLine =
  | { t: 'a'; s: string; e: string; q: string; k: string; h: string }
  | { t: 'r'; s: string; e: string; w: string; y?: string };

/** One journal line per applied event or rebootstrap (chaos/clients/journal.ts writes them). */
export function journalLine(entry: ClientEntry): string {
  const line: JournalLine =
    entry.type === 'applied'
      ? {
          t: 'a',
          s: entry.streamId,
          e: String(entry.epoch),
          q: String(entry.seq),
          k: entry.key,
          h: entry.payloadHash,
        }
      : {
          t: 'r',
          s: entry.streamId,
          e: String(entry.epoch),
          w: String(entry.watermark),
          ...(entry.reason ? { y: entry.reason } : {}),
        };
  return `${JSON.stringify(line)}\n`;
}

/** Parses a journal; a torn last line (the process was killed mid-write) is not an entry. */
export function parseJournal(text: string): ClientEntry[] {
  const out: ClientEntry[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    if (!raw) continue;
    let l: JournalLine;
    try {
      l = JSON.parse(raw) as JournalLine;
    } catch (e) {
      if (i === lines.length - 1) continue; // torn by a kill mid-write: never applied
      throw new Error(`journal line ${i + 1} is damaged: ${String(e)}`);
    }
    out.push(
      l.t === 'a'
        ? { type: 'applied', streamId: l.s, epoch: BigInt(l.e), seq: BigInt(l.q), key: l.k, payloadHash: l.h }
        : {
            type: 'rebootstrap',
            streamId: l.s,
            epoch: BigInt(l.e),
            watermark: BigInt(l.w),
            ...(l.y ? { reason: l.y } : {}),
          },
    );
  }
  return out;
}

export async function readJournal(clientId: string, path: string): Promise<ClientHistory> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { clientId, entries: parseJournal(text) };
}
