/**
 * What the candidate holds before the comparison starts: every stream the identity may read, with its
 * epoch and head. Parity needs the epochs to resume a client from a chosen seq without the client
 * taking a made-up epoch for a history change.
 */

import { DbConnection } from '../../module/bindings/index.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import type { CandidateTarget } from './candidate.js';

export interface StreamInfo {
  readonly epoch: bigint;
  readonly head: bigint;
}

/** Every stream of the candidate: of each shard when it is sharded (a stream lives on one). */
export async function readStreams(
  target: CandidateTarget,
  timeoutMs = 15_000,
): Promise<Map<string, StreamInfo>> {
  if (!target.shards) return readOne(target, timeoutMs);
  const out = new Map<string, StreamInfo>();
  for (const shard of target.shards)
    for (const [id, info] of await readOne(shard, timeoutMs)) out.set(id, info);
  return out;
}

function readOne(
  target: Pick<CandidateTarget, 'uri' | 'database' | 'token'>,
  timeoutMs: number,
): Promise<Map<string, StreamInfo>> {
  ensureWebSocket();
  return new Promise((resolve, reject) => {
    let conn: DbConnection | undefined;
    const timer = setTimeout(() => {
      conn?.disconnect();
      reject(new Error(`no answer from ${target.uri} (database ${target.database}) within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (f: () => void) => {
      clearTimeout(timer);
      conn?.disconnect();
      f();
    };
    conn = DbConnection.builder()
      .withUri(target.uri)
      .withDatabaseName(target.database)
      .withToken(target.token)
      .onConnect((c) => {
        c.subscriptionBuilder()
          .onApplied(() => {
            const out = new Map<string, StreamInfo>();
            for (const row of c.db.syncStream.iter())
              out.set(row.streamId, { epoch: row.epoch, head: row.headSeq });
            done(() => resolve(out));
          })
          .onError((ctx) => done(() => reject(new Error(`cannot read streams: ${String(ctx.event ?? '')}`))))
          .subscribe('SELECT * FROM sync_stream');
      })
      .onConnectError((_ctx, err) =>
        done(() => reject(new Error(`cannot connect to ${target.uri}: ${String(err)}`))),
      )
      .build();
  });
}
