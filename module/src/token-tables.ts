/**
 * Short-lived scoped client tokens (issue 14): a trusted issuer's token names its streams in a claim;
 * SpacetimeDB's row-level security cannot read claims, so `client_connected` materializes them into
 * `token_grant` rows for that connection, and `client_disconnected` or a revocation removes them.
 */
import { t, table } from 'spacetimedb/server';

/** Issuers whose tokens carry stream scopes (set by a writer); any other issuer's token grants nothing. */
export const token_issuer = table(
  { name: 'token_issuer', public: false },
  {
    /** The token's `iss`, exactly. */
    issuer: t.string().primaryKey(),
    /** The `aud` its tokens must name. */
    audience: t.string(),
    updated_at: t.timestamp(),
  },
);

/** One connection made with a scoped token. The client sees its own (and so learns it was revoked). */
export const token_session = table(
  { name: 'token_session', public: true },
  {
    connection_id: t.connectionId().primaryKey(),
    identity: t.identity().index('btree'),
    /** The token's `sid` claim: what a revocation names. */
    session_id: t.string().index('btree'),
    user_id: t.string(),
    device_id: t.string(),
    revoked: t.bool(),
    connected_at: t.timestamp(),
  },
);

/** Read access a scoped token gave one connection; gone when it disconnects or is revoked. */
export const token_grant = table(
  {
    name: 'token_grant',
    public: false,
    indexes: [{ accessor: 'by_reader_stream', algorithm: 'btree', columns: ['reader', 'stream_id'] }],
  },
  {
    grant_id: t.u64().primaryKey().autoInc(),
    reader: t.identity(),
    stream_id: t.string().index('btree'),
    connection_id: t.connectionId().index('btree'),
    session_id: t.string().index('btree'),
  },
);

/** Revoked sessions: a token naming one is refused at connect, and calls on its live connections fail. */
export const revoked_session = table(
  { name: 'revoked_session', public: false },
  { session_id: t.string().primaryKey(), revoked_at: t.timestamp() },
);
