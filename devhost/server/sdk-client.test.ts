/**
 * The unmodified SpacetimeDB SDK (`DbConnection` from the generated test bindings) against devhost,
 * over both subprotocols it speaks.
 */
import { InternalError, SenderError } from 'spacetimedb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { tables } from '../testdata/test-module-bindings/index.js';
import { identityFromClaims } from './identity.js';
import { type DevhostServer, startServer } from './index.js';
import {
  connectSdk,
  installSdkWebSocket,
  openTestDatabase,
  registry,
  type SdkClient,
} from './testing/e2e-harness.js';

installSdkWebSocket();

describe.each(['v3', 'v2'] as const)('SDK over %s', (protocol) => {
  let db: DevhostDatabase;
  let server: DevhostServer;
  const open: SdkClient[] = [];
  const connect = async (options: Parameters<typeof connectSdk>[2] = {}) => {
    const client = await connectSdk(server.url, 'main', { protocol, ...options });
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    db = await openTestDatabase('main');
    server = await startServer({ databases: registry(db) });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.conn.disconnect();
  });
  afterAll(async () => {
    await server.close();
    await db.close();
  });

  it('connects anonymously with a SpacetimeDB identity, and reconnects with its token as the same identity', async () => {
    const first = await connect();
    const payload = JSON.parse(
      Buffer.from(first.token.split('.')[1] as string, 'base64url').toString('utf8'),
    );
    expect(first.identity.toHexString()).toBe(payload.hex_identity);
    expect(first.identity.__identity__).toBe(identityFromClaims(payload.iss, payload.sub));
    const again = await connect({ token: first.token });
    expect(again.identity.isEqual(first.identity)).toBe(true);
    expect(again.token).toBe(first.token);
    expect(again.conn.connectionId.isEqual(first.conn.connectionId)).toBe(false);
  });

  it('subscribes with a WHERE filter and receives only matching rows, initially and as deltas', async () => {
    const team = `where-${protocol}`;
    const writer = await connect();
    await writer.conn.reducers.addPerson({ name: `${team}-a`, age: 20, team, level: 1 });
    await writer.conn.reducers.addPerson({ name: `${team}-b`, age: 50, team, level: 2 });
    await writer.conn.reducers.addPerson({ name: `${team}-other`, age: 60, team: `${team}-x`, level: 1 });

    const reader = await connect();
    await new Promise<void>((resolve, reject) =>
      reader.conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .onError((ctx) => reject(ctx.event))
        .subscribe(tables.person.where((r) => r.team.eq(team).and(r.age.gte(30)))),
    );
    expect([...reader.conn.db.person.iter()].map((p) => p.name)).toEqual([`${team}-b`]);

    const seen: string[] = [];
    reader.conn.db.person.onInsert((ctx, row) => seen.push(`${ctx.event.tag}:${row.name}`));
    await writer.conn.reducers.addPerson({ name: `${team}-c`, age: 40, team, level: 3 });
    await writer.conn.reducers.addPerson({ name: `${team}-young`, age: 10, team, level: 3 });
    await expect.poll(() => seen.length).toBeGreaterThan(0);
    await writer.conn.reducers.addPerson({ name: `${team}-d`, age: 41, team, level: 3 });
    await expect.poll(() => seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([`Transaction:${team}-c`, `Transaction:${team}-d`]);
    expect(reader.conn.db.person.count()).toBe(3n);
  });

  it("resolves the caller's reducer call with its own update applied, as a Reducer event", async () => {
    const team = `caller-${protocol}`;
    const caller = await connect();
    await new Promise<void>((resolve) =>
      caller.conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .subscribe(tables.person.where((r) => r.team.eq(team))),
    );
    const events: string[] = [];
    caller.conn.db.person.onInsert((ctx, row) => {
      if (ctx.event.tag === 'Reducer')
        events.push(`${ctx.event.value.reducer.name}:${row.name}:${ctx.event.value.outcome.tag}`);
      else events.push(`${ctx.event.tag}:${row.name}`);
    });
    await caller.conn.reducers.addPerson({ name: `${team}-1`, age: 1, team, level: 1 });
    // Resolved only after the ReducerResult carrying the insert was applied to the cache.
    // Read by scan: the bindings (like the official ones) type only primary-key indexes as unique, while
    // the SDK builds `name` as a unique index at run time, so neither `find` nor `filter` fits both.
    expect([...caller.conn.db.person.iter()].find((p) => p.name === `${team}-1`)?.team).toBe(team);
    expect(events).toEqual([`add_person:${team}-1:Ok`]);
  });

  it('rejects a SenderError with its message and a panic with the fatal-error message', async () => {
    const client = await connect();
    await expect(client.conn.reducers.failWithSenderError({ message: `nope-${protocol}` })).rejects.toEqual(
      new SenderError(`nope-${protocol}`),
    );
    const fatal = client.conn.reducers.failWithError({ message: 'boom' });
    await expect(fatal).rejects.toBeInstanceOf(InternalError);
    await expect(fatal).rejects.toThrow('The instance encountered a fatal error.');
  });

  it('reports a subscription error for SQL that does not compile, and stays connected', async () => {
    const client = await connect();
    const error = await new Promise<Error>((resolve) =>
      client.conn
        .subscriptionBuilder()
        .onError((ctx) => resolve(ctx.event as Error))
        .subscribe('SELECT * FROM no_such_table'),
    );
    expect(error.message).toBe(
      'no such table: `no_such_table`. If the table exists, it may be marked private., executing: `SELECT * FROM no_such_table`',
    );
    await client.conn.reducers.addPerson({ name: `still-${protocol}`, age: 1, team: 'x', level: 1 });
    expect(client.conn.isActive).toBe(true);
  });

  it('does not let a non-owner subscribe to a private table', async () => {
    const client = await connect();
    await client.conn.reducers.addSecret({ text: 'hidden' });
    const error = await new Promise<Error>((resolve) =>
      client.conn
        .subscriptionBuilder()
        .onError((ctx) => resolve(ctx.event as Error))
        .subscribe('SELECT * FROM secret_note'),
    );
    expect(error.message).toMatch(/^no such table: `secret_note`/);
  });

  it('unsubscribes: the rows only that subscription held leave the cache', async () => {
    const team = `unsub-${protocol}`;
    const client = await connect();
    await client.conn.reducers.addPerson({ name: `${team}-a`, age: 1, team, level: 1 });
    await client.conn.reducers.addPerson({ name: `${team}-b`, age: 2, team, level: 1 });
    // `subscribe` is overloaded (SQL, typed query, query function); this helper passes typed queries.
    const applied = (query: ReturnType<typeof tables.person.where>) =>
      new Promise<ReturnType<ReturnType<typeof client.conn.subscriptionBuilder>['subscribe']>>((resolve) => {
        const handle = client.conn
          .subscriptionBuilder()
          .onApplied(() => resolve(handle))
          .subscribe(query);
      });
    const all = await applied(tables.person.where((r) => r.team.eq(team)));
    const onlyA = await applied(tables.person.where((r) => r.name.eq(`${team}-a`)));
    const deleted: string[] = [];
    client.conn.db.person.onDelete((_ctx, row) => deleted.push(row.name));
    await new Promise<void>((resolve) => all.unsubscribeThen(() => resolve()));
    expect(deleted).toEqual([`${team}-b`]);
    expect([...client.conn.db.person.iter()].map((p) => p.name)).toEqual([`${team}-a`]);
    await new Promise<void>((resolve) => onlyA.unsubscribeThen(() => resolve()));
    expect(client.conn.db.person.count()).toBe(0n);
  });

  it('delivers event-table rows as events that never stay in the cache', async () => {
    const client = await connect();
    await new Promise<void>((resolve) =>
      client.conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .subscribe(tables.notice),
    );
    const texts: string[] = [];
    client.conn.db.notice.onInsert((_ctx, row) => texts.push(row.text));
    const other = await connect();
    await other.conn.reducers.emitNotice({ text: `hello-${protocol}` });
    await expect.poll(() => texts.length).toBeGreaterThan(0);
    expect(texts).toEqual([`hello-${protocol}`]);
    expect(client.conn.db.notice.count()).toBe(0n);
  });

  it("runs the module's connect and disconnect reducers, visible to other clients", async () => {
    const watcher = await connect();
    await new Promise<void>((resolve) =>
      watcher.conn
        .subscriptionBuilder()
        .onApplied(() => resolve())
        .subscribe(tables.connectionLog),
    );
    const log: string[] = [];
    watcher.conn.db.connectionLog.onInsert((_ctx, row) =>
      log.push(`${row.kind}:${row.sender.toHexString()}`),
    );
    const visitor = await connectSdk(server.url, 'main', { protocol });
    const who = visitor.identity.toHexString();
    await expect.poll(() => log).toContain(`connected:${who}`);
    visitor.conn.disconnect();
    await expect.poll(() => log).toContain(`disconnected:${who}`);
    const rows = watcher.conn.db.connectionLog.iter();
    const mine = [...rows].filter((r) => r.sender.toHexString() === who);
    expect(mine.map((r) => r.kind)).toEqual(['connected', 'disconnected']);
    expect(mine[0]?.connectionId?.isEqual(mine[1]?.connectionId as never)).toBe(true);
  });
});
