/**
 * `spacetime-sync grant|revoke writer <identity> [--label L]` and
 * `spacetime-sync grant|revoke reader <identity> --stream S [--stream S …]`: who may write to the sync
 * module, and which streams a desktop identity may read. Runs as SPACETIMEDB_TOKEN (a writer's token,
 * e.g. the owner token `npm start` prints) against SPACETIMEDB_URI / SPACETIMEDB_DB.
 *
 * Exit 0 when applied (granting twice is a no-op), 1 when the module refused, 2 for usage, 3 when
 * SpacetimeDB cannot be reached.
 */
import { parseArgs } from 'node:util';
import { Identity } from 'spacetimedb';
import { ensureWebSocket } from '../../client/node-websocket.js';
import { DbConnection } from '../../module/bindings/index.js';
import { loadConfigOrReport } from '../config.ts';

type Action = 'grant' | 'revoke';

function connect(uri: string, database: string, token: string | undefined): Promise<DbConnection> {
  ensureWebSocket();
  return new Promise((resolve, reject) => {
    DbConnection.builder()
      .withUri(uri)
      .withDatabaseName(database)
      .withToken(token)
      .onConnect((c) => resolve(c as DbConnection))
      .onConnectError((_ctx, err) => reject(err))
      .build();
  });
}

async function run(action: Action, argv: string[]): Promise<number> {
  const name = `spacetime-sync ${action}`;
  let parsed: { values: { label?: string; stream?: string[] }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { label: { type: 'string' }, stream: { type: 'string', multiple: true } },
    });
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    return 2;
  }
  const [role, who, ...extra] = parsed.positionals;
  const streams = parsed.values.stream ?? [];
  if ((role !== 'writer' && role !== 'reader') || who === undefined || extra.length > 0) {
    console.error(
      `usage: ${name} writer <identity> [--label L] | ${name} reader <identity> --stream S [--stream S …]`,
    );
    return 2;
  }
  if (role === 'reader' && streams.length === 0) {
    console.error(`${name} reader: name the streams with --stream`);
    return 2;
  }
  let identity: Identity;
  try {
    identity = Identity.fromString(who);
  } catch {
    console.error(
      `${name}: '${who}' is not an identity (64 hex digits, as \`spacetime-sync status\` prints it)`,
    );
    return 2;
  }
  const config = loadConfigOrReport();
  if (!config) return 2;
  if (config.spacetime.kind !== 'remote') {
    console.error(`${name}: set SPACETIMEDB_URI, SPACETIMEDB_DB and SPACETIMEDB_TOKEN (a writer's token)`);
    return 2;
  }
  let conn: DbConnection;
  try {
    conn = await connect(config.spacetime.uri, config.spacetime.database, config.spacetime.token);
  } catch (e) {
    console.error(`${name}: cannot reach SpacetimeDB at ${config.spacetime.uri}: ${String(e)}`);
    return 3;
  }
  try {
    const r = conn.reducers;
    if (role === 'writer') {
      if (action === 'grant') await r.grantWriter({ identity, label: parsed.values.label ?? '' });
      else await r.revokeWriter({ identity });
    } else {
      for (const stream_id of streams) {
        if (action === 'grant') await r.grantStreamRead({ reader: identity, stream_id });
        else await r.revokeStreamRead({ reader: identity, stream_id });
      }
    }
    const what = role === 'writer' ? 'write access' : `read access to ${streams.join(', ')}`;
    console.log(
      `${action === 'grant' ? 'granted' : 'revoked'} ${what} ${action === 'grant' ? 'to' : 'from'} ${identity.toHexString()}`,
    );
    return 0;
  } catch (e) {
    console.error(`${name}: refused: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    conn.disconnect();
  }
}

export const runGrant = (argv: string[]) => run('grant', argv);
export const runRevoke = (argv: string[]) => run('revoke', argv);
