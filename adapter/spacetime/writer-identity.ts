/**
 * Setup: the adapter writes as an identity of its own that the owner granted writer, never as the owner.
 * The owner's token is used here, once per start, to mint (or reload) that identity and grant it;
 * everything that runs afterwards (writer, probe, bridge, shadow) holds only the writer token.
 */
import { Identity } from 'spacetimedb';
import { DbConnection } from '../../module/bindings/index.js';
import { unavailable } from '../../shared/errors/sync-error.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { readSecretFileSync, writeSecretFileSync } from '../../shared/secret-file.js';

export interface WriterIdentity {
  readonly token: string;
  readonly identityHex: string;
}

export interface ProvisionWriterOptions {
  readonly uri: string;
  readonly database: string;
  readonly ownerToken: string;
  /** Where the writer token is kept (0600) so restarts keep the identity; absent: a fresh one per start. */
  readonly tokenFile?: string;
  /** `sync_writer.label` of the granted identity. */
  readonly label?: string;
}

const httpBase = (uri: string) => uri.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');

/** `POST /v1/identity`: a new identity and its token, signed by the SpacetimeDB host. */
async function mintIdentity(uri: string): Promise<WriterIdentity> {
  const res = await fetch(`${httpBase(uri)}/v1/identity`, { method: 'POST' });
  if (!res.ok) throw unavailable('spacetimedb', `minting the writer identity failed: HTTP ${res.status}`);
  const body = (await res.json()) as { identity?: unknown; token?: unknown };
  if (typeof body.identity !== 'string' || typeof body.token !== 'string')
    throw unavailable('spacetimedb', 'minting the writer identity: the answer has no identity and token');
  return { identityHex: body.identity, token: body.token };
}

/** Runs `use` on a short connection made with `token`, then disconnects. */
function connectAs<T>(
  o: { uri: string; database: string; token: string },
  use: (conn: DbConnection, identity: Identity) => Promise<T>,
): Promise<T> {
  ensureWebSocket();
  return new Promise<T>((resolve, reject) => {
    DbConnection.builder()
      .withUri(o.uri)
      .withDatabaseName(o.database)
      .withToken(o.token)
      .withCompression('none')
      .onConnect((c, identity) => {
        use(c as DbConnection, identity)
          .then(resolve, reject)
          .finally(() => c.disconnect());
      })
      .onConnectError((_ctx, err) => reject(err))
      .build();
  });
}

export async function provisionWriter(o: ProvisionWriterOptions): Promise<WriterIdentity> {
  let writer: WriterIdentity | undefined;
  const kept = o.tokenFile ? readSecretFileSync(o.tokenFile) : undefined;
  if (kept) {
    const identity = await connectAs({ ...o, token: kept }, async (_c, id) => id);
    writer = { token: kept, identityHex: identity.toHexString() };
  } else {
    writer = await mintIdentity(o.uri);
    if (o.tokenFile) writeSecretFileSync(o.tokenFile, writer.token);
  }
  const identityHex = writer.identityHex;
  // Idempotent: granting an existing writer is a no-op.
  await connectAs({ ...o, token: o.ownerToken }, (c) =>
    c.reducers.grantWriter({ identity: Identity.fromString(identityHex), label: o.label ?? 'adapter' }),
  );
  return writer;
}
