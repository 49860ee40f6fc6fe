/**
 * A TypeScript equivalent of SpacetimeDB's `chat-react-ts` template module (templates/chat-react-ts/
 * spacetimedb at v2.8.3), whose `spacetime generate` output is checked into that repository
 * (templates/chat-react-ts/src/module_bindings). The same tables, columns, keys and reducers; the
 * bodies are this project's own. Used by devhost/codegen/official-drift.test.ts.
 */
import { SenderError, schema, t, table } from 'spacetimedb/server';

const user = table(
  { name: 'user', public: true },
  { identity: t.identity().primaryKey(), name: t.string().optional(), online: t.bool() },
);

const message = table(
  { name: 'message', public: true },
  { sender: t.identity(), sent: t.timestamp(), text: t.string() },
);

const spacetimedb = schema({ user, message });
export default spacetimedb;

export const set_name = spacetimedb.reducer({ name: t.string() }, (ctx, { name }) => {
  if (!name) throw new SenderError('a name must not be empty');
  const row = ctx.db.user.identity.find(ctx.sender);
  if (!row) throw new SenderError('unknown user');
  ctx.db.user.identity.update({ ...row, name });
});

export const send_message = spacetimedb.reducer({ text: t.string() }, (ctx, { text }) => {
  if (!text) throw new SenderError('a message must not be empty');
  ctx.db.message.insert({ sender: ctx.sender, sent: ctx.timestamp, text });
});

export const init = spacetimedb.init(() => {});

export const onConnect = spacetimedb.clientConnected((ctx) => {
  const row = ctx.db.user.identity.find(ctx.sender);
  if (row) ctx.db.user.identity.update({ ...row, online: true });
  else ctx.db.user.insert({ identity: ctx.sender, name: undefined, online: true });
});

export const onDisconnect = spacetimedb.clientDisconnected((ctx) => {
  const row = ctx.db.user.identity.find(ctx.sender);
  if (row) ctx.db.user.identity.update({ ...row, online: false });
});
