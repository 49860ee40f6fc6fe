/**
 * One SDK connection to the sync module for commands that call reducers (grant, revoke). A
 * connection that fails or does not come up within the timeout means the address does not lead to
 * the database: exit 3 with what was tried (never the token).
 */
import { setGlobalLogLevel } from 'spacetimedb';
import { DbConnection } from '../module/bindings/index.js';
import { ensureWebSocket } from '../shared/node-websocket.js';
import { UnreachableError } from './exit-codes.js';
import type { SpacetimeTarget } from './options.js';

const CONNECT_TIMEOUT_MS = 10_000;

export function connectModule(target: SpacetimeTarget): Promise<DbConnection> {
  ensureWebSocket();
  // stdout is the command's answer; keep the SDK's own console chatter to warnings.
  setGlobalLogLevel('warn');
  const where = `database '${target.database}' at ${target.uri} (as ${target.tokenSource})`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.disconnect();
      reject(new UnreachableError(`no answer from ${where} within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    const conn = DbConnection.builder()
      .withUri(target.uri)
      .withDatabaseName(target.database)
      .withToken(target.token)
      .onConnect((c) => {
        clearTimeout(timer);
        resolve(c as DbConnection);
      })
      .onConnectError((_ctx, err) => {
        clearTimeout(timer);
        reject(
          new UnreachableError(
            `cannot connect to ${where}: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
      })
      .build();
  });
}
