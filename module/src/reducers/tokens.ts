/**
 * Scoped client tokens in the module: which issuers count, what a connection's token grants while it
 * is connected, and revocation. Reducers read the caller's claims (`ctx.senderAuth.jwt`); row-level
 * security cannot, so the token's streams become `token_grant` rows for the connection.
 */
import { t } from 'spacetimedb/server';
import { requireWriter } from '../logic/auth.ts';
import { fail } from '../logic/fail.ts';
import { MAX_CLIENT_ID, MAX_PRESENCE_STREAMS, MAX_STREAM_ID } from '../logic/limits.ts';
import spacetimedb from '../schema.ts';

type Ctx = Parameters<Parameters<typeof spacetimedb.reducer>[1]>[0];

const str = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined;

/**
 * On connect: a token of a trusted issuer, for its audience, opens a token session and grants its
 * `streams` to this connection. A revoked session's token, or malformed scopes, refuse the connection.
 * Any other token (another issuer, none) grants nothing: the identity sees what writers granted it.
 */
export function openTokenSession(ctx: Ctx): void {
  const jwt = ctx.senderAuth.jwt;
  if (!jwt || !ctx.connectionId) return;
  const issuer = ctx.db.token_issuer.issuer.find(jwt.issuer);
  if (!issuer || !jwt.audience.includes(issuer.audience)) return;
  const claims = jwt.fullPayload as Record<string, unknown>;
  const session_id = str(claims['sid'], MAX_CLIENT_ID);
  const streams = claims['streams'];
  if (
    !session_id ||
    !Array.isArray(streams) ||
    streams.length > MAX_PRESENCE_STREAMS ||
    !streams.every((s) => str(s, MAX_STREAM_ID) !== undefined)
  ) {
    throw fail('invalid', 'a scoped token needs a `sid` and at most 256 `streams` of 1..256 characters', {
      field: 'token',
      rule_id: 'token.scopes',
    });
  }
  if (ctx.db.revoked_session.session_id.find(session_id)) {
    throw fail('unauthorized', `session '${session_id}' was revoked`, {
      action: 'connect',
      resource: session_id,
    });
  }
  ctx.db.token_session.insert({
    connection_id: ctx.connectionId,
    identity: ctx.sender,
    session_id,
    user_id: str(claims['uid'], MAX_CLIENT_ID) ?? '',
    device_id: str(claims['did'], MAX_CLIENT_ID) ?? '',
    revoked: false,
    connected_at: ctx.timestamp,
  });
  for (const stream_id of new Set(streams as string[])) {
    ctx.db.token_grant.insert({
      grant_id: 0n,
      reader: ctx.sender,
      stream_id,
      connection_id: ctx.connectionId,
      session_id,
    });
  }
}

/** On disconnect: the connection's token grants and session go. */
export function closeTokenSession(ctx: Ctx): void {
  if (!ctx.connectionId) return;
  for (const g of [...ctx.db.token_grant.connection_id.filter(ctx.connectionId)])
    ctx.db.token_grant.grant_id.delete(g.grant_id);
  ctx.db.token_session.connection_id.delete(ctx.connectionId);
}

/** Calls from a connection whose session was revoked are refused (its socket may stay open). */
export function requireLiveSession(ctx: Ctx, action: string): void {
  if (!ctx.connectionId) return;
  const s = ctx.db.token_session.connection_id.find(ctx.connectionId);
  if (s?.revoked) {
    throw fail('unauthorized', `session '${s.session_id}' was revoked; may not ${action}`, {
      action,
      resource: s.session_id,
    });
  }
}

export const trust_token_issuer = spacetimedb.reducer(
  { issuer: t.string(), audience: t.string() },
  (ctx, { issuer, audience }) => {
    requireWriter(ctx.db, ctx.sender, 'configure token issuers');
    if (!str(issuer, 128) || !str(audience, 256))
      throw fail('invalid', 'issuer must be 1..128 and audience 1..256 characters', {
        field: 'issuer',
        rule_id: 'string.len_range',
      });
    const row = { issuer, audience, updated_at: ctx.timestamp };
    if (ctx.db.token_issuer.issuer.find(issuer)) ctx.db.token_issuer.issuer.update(row);
    else ctx.db.token_issuer.insert(row);
  },
);

export const distrust_token_issuer = spacetimedb.reducer({ issuer: t.string() }, (ctx, { issuer }) => {
  requireWriter(ctx.db, ctx.sender, 'configure token issuers');
  ctx.db.token_issuer.issuer.delete(issuer);
});

/**
 * Revokes a session at once: its grants go (its live connections receive no further rows), its
 * connections' calls are refused, the client sees its session row turn `revoked`, and a token naming
 * the session is refused at connect from now on.
 */
export const revoke_client_session = spacetimedb.reducer(
  { session_id: t.string() },
  (ctx, { session_id }) => {
    requireWriter(ctx.db, ctx.sender, 'revoke client sessions');
    if (!str(session_id, MAX_CLIENT_ID))
      throw fail('invalid', `session_id must be 1..${MAX_CLIENT_ID} characters`, {
        field: 'session_id',
        rule_id: 'string.len_range',
      });
    if (!ctx.db.revoked_session.session_id.find(session_id))
      ctx.db.revoked_session.insert({ session_id, revoked_at: ctx.timestamp });
    for (const g of [...ctx.db.token_grant.session_id.filter(session_id)])
      ctx.db.token_grant.grant_id.delete(g.grant_id);
    for (const s of [...ctx.db.token_session.session_id.filter(session_id)])
      ctx.db.token_session.connection_id.update({ ...s, revoked: true });
  },
);
