/**
 * The two systems `npm run bench:peers` drives the same way: spacetime-sync (the compiled service
 * process with its embedded devhost, publishing through the Connect ingest API, following with
 * `SyncClient`) and Centrifugo (its HTTP API, its official `centrifuge` client). Each offers: publish
 * one batch to a stream, follow a stream from a position, and the server's process id (for RSS).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Centrifuge } from 'centrifuge';
import { SignJWT } from 'jose';
import type { Identity } from 'spacetimedb';
import WebSocket from 'ws';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { SyncClient } from '../../client/sync-client.js';
import { DbConnection } from '../../module/bindings/index.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { freePort } from '../../test/support/free-port.js';

/** A follower: `position` is where it stands (to resume from after `close`). */
export interface Follower {
  close(): Promise<unknown>;
}

export interface PeerSystem {
  readonly name: string;
  readonly pid: number;
  /** Ours with devhost on its own thread: that thread's Linux id (for the per-thread CPU split). */
  readonly devhostThreadId?: number;
  readonly config: string;
  /**
   * Publishes one batch. `pipelined`: one of several calls in flight to the stream — ours numbers it
   * (publisher_id + publisher_seq, so they are applied in call order); Centrifugo takes concurrent
   * HTTP API calls as they come.
   */
  publish(stream: string, payloads: readonly string[], pipelined?: boolean): Promise<void>;
  /** Follows `stream`; `resume` is what an earlier follower of the same key left (recovery). */
  follow(stream: string, key: string, onEvent: (payload: string) => void): Promise<Follower>;
  stop(): Promise<void>;
}

const ROOT = new URL('../../', import.meta.url).pathname;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A runner that fails must not leave a server behind.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function stopChild(child: ChildProcess): Promise<void> {
  children.delete(child);
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// ---- spacetime-sync ----

/** DEVHOST_THREAD of the service under test: devhost on its own worker thread, or inline. */
export type OursThread = 'worker' | 'inline';

/**
 * PEERS_DURABLE=1: ours with a data dir in its state dir (commit log, group-commit fsync, confirmed
 * reads: an answer and each subscriber's update leave once fsynced). Default memory only, as
 * Centrifugo's memory engine is.
 */
const DURABLE = process.env.PEERS_DURABLE === '1';

export async function startOurs(thread: OursThread): Promise<PeerSystem> {
  ensureWebSocket();
  const state = mkdtempSync(join(tmpdir(), 'peers-ours-'));
  const [devhostPort, ingestPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPACETIME_SYNC_STATE_DIR: state,
    DEVHOST_PORT: String(devhostPort),
    INGEST_PORT: String(ingestPort),
    // info: the start's log line naming the devhost thread's id is read below.
    LOG_LEVEL: 'info',
    PROBE_INTERVAL_MS: '0',
    DEVHOST_THREAD: thread,
    ...(DURABLE ? { DEVHOST_DATA_DIR: join(state, 'devhost') } : {}),
  };
  delete env.KAFKA_BROKERS;
  // SERVER_PROF=dir writes a CPU profile of the service process there (where a figure's time goes).
  const prof = process.env.SERVER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SERVER_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, join(ROOT, 'bin/spacetime-sync.js'), 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let devhostThreadId: number | undefined;
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = /"osThreadId":(\d+)/.exec(line);
      if (m) devhostThreadId = Number(m[1]);
    }
  });
  const local = await until('the service', async () => {
    const info = JSON.parse(readFileSync(join(state, 'local.json'), 'utf8')) as {
      url: string;
      spacetimedb: { uri: string; database: string };
      ownerToken: string;
      auth?: { keyFile: string; audience: string };
    };
    return (await fetch(`${info.url}/readyz`)).ok ? info : undefined;
  });
  // Ingest takes a bearer token: one from the service's machine-local issuer, as the CLI mints it.
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (local.auth) {
    const { mintLocalToken, readLocalIssuerKey } = await import('../../adapter/auth/local-issuer.js');
    const bearer = await mintLocalToken(readLocalIssuerKey(local.auth.keyFile), {
      roles: ['publisher'],
      streams: ['*'],
      ttlS: 3600,
      audience: local.auth.audience,
    });
    headers.authorization = `Bearer ${bearer}`;
  }
  const { uri, database } = local.spacetimedb;
  const owner = await sdkConnect(uri, database, local.ownerToken);
  const reader = await sdkConnect(uri, database, undefined);
  const granted = new Set<string>();
  const authoritySeq = new Map<string, bigint>();
  const publisherId = randomUUID();
  const publisherSeqs = new Map<string, bigint>();
  const nextPublisherSeq = (stream: string) => {
    const seq = (publisherSeqs.get(stream) ?? 0n) + 1n;
    publisherSeqs.set(stream, seq);
    return seq;
  };
  let key = 0;
  const cursors = new Map<string, MemoryCursorStore>();
  return {
    name: `spacetime-sync (devhost ${thread})`,
    pid: child.pid as number,
    get devhostThreadId() {
      return devhostThreadId;
    },
    config: `node bin/spacetime-sync.js start (embedded devhost, ${DURABLE ? 'durable: DEVHOST_DATA_DIR in the state dir, group-commit fsync' : 'memory only'}, compiled dist/); DEVHOST_THREAD=${thread} DEVHOST_PORT=${devhostPort} INGEST_PORT=${ingestPort} PROBE_INTERVAL_MS=0; publish: Connect JSON IngestService/Publish; follow: SyncClient as a granted reader`,
    async publish(stream, payloads, pipelined) {
      const envelopes = payloads.map((p) => {
        const seq = (authoritySeq.get(stream) ?? 0n) + 1n;
        authoritySeq.set(stream, seq);
        const bytes = Buffer.from(p);
        return {
          streamId: stream,
          idempotencyKey: `k${++key}`,
          kind: 'bench.v1',
          payload: bytes.toString('base64'),
          payloadHash: createHash('sha256').update(bytes).digest('base64'),
          hashAlgorithm: 'HASH_ALGORITHM_SHA256',
          source: { authorityTopic: 'bench', authoritySeq: String(seq) },
          producedAt: new Date().toISOString(),
          protocolVersion: { major: 1, minor: 0 },
        };
      });
      // Numbered now, in call order (before the first await).
      const sequenced = pipelined
        ? { publisherId: `${publisherId}-${stream}`, publisherSeq: String(nextPublisherSeq(stream)) }
        : {};
      const body = JSON.stringify({ envelopes, ...sequenced });
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${local.url}/spacetime_sync.v1.IngestService/Publish`, {
          method: 'POST',
          headers,
          body,
        });
        if (res.ok) return;
        const text = await res.text();
        // Its predecessor had not arrived within the hold (OUT_OF_ORDER_SEQUENCE, Connect `aborted`):
        // sent again, as a pipelining publisher does.
        if (attempt < 5 && pipelined && text.includes('"code":"aborted"')) continue;
        throw new Error(`publish: ${res.status} ${text}`);
      }
    },
    async follow(stream, cursorKey, onEvent) {
      if (!granted.has(stream)) {
        await owner.conn.reducers.grantStreamRead({ reader: reader.identity, streamId: stream });
        granted.add(stream);
      }
      let store = cursors.get(cursorKey);
      if (!store) {
        store = new MemoryCursorStore();
        cursors.set(cursorKey, store);
      }
      const client = await SyncClient.open([stream], {
        uri,
        database,
        token: reader.token,
        clientId: `peers-${cursorKey}`,
        store,
        onEvent: (_s, e) => onEvent(new TextDecoder().decode(e.payload)),
      });
      await client.waitLive(600_000);
      return { close: () => client.close() };
    },
    async stop() {
      owner.conn.disconnect();
      reader.conn.disconnect();
      await stopChild(child);
      rmSync(state, { recursive: true, force: true });
    },
  };
}

function sdkConnect(
  uri: string,
  database: string,
  token: string | undefined,
): Promise<{ conn: DbConnection; token: string; identity: Identity }> {
  return new Promise((resolve, reject) => {
    DbConnection.builder()
      .withUri(uri)
      .withDatabaseName(database)
      .withToken(token)
      .onConnect((conn, identity, tok) => resolve({ conn: conn as DbConnection, token: tok, identity }))
      .onConnectError((_c, e) => reject(e))
      .build();
  });
}

// ---- Centrifugo ----

export async function startCentrifugo(): Promise<PeerSystem> {
  const bin = execFileSync('bash', [join(ROOT, 'scripts/centrifugo.sh'), 'install'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const configFile = join(ROOT, 'bench/peers/centrifugo.json');
  const port = await freePort();
  // Secrets go through the environment of the child only, never a command line or the output.
  const apiKey = randomBytes(24).toString('hex');
  const hmac = randomBytes(32).toString('hex');
  const child = spawn(bin, ['--config', configFile], {
    env: {
      ...process.env,
      CENTRIFUGO_HTTP_SERVER_PORT: String(port),
      CENTRIFUGO_HTTP_API_KEY: apiKey,
      CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY: hmac,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  await until('centrifugo', async () => ((await fetch(`${base}/health`)).ok ? true : undefined));
  const token = await new SignJWT({ sub: 'bench' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(hmac));
  const positions = new Map<string, { offset: number; epoch: string }>();
  return {
    name: 'Centrifugo',
    pid: child.pid as number,
    config: `${bin} (v6.9.1, go install) --config bench/peers/centrifugo.json: ${readFileSync(configFile, 'utf8').replace(/\s+/g, ' ')}; port ${port}, API key and HMAC secret random per run via env; publish: HTTP API /api/batch; follow: centrifuge ${'JS client'} with recovery (since)`,
    async publish(stream, payloads) {
      const res = await fetch(`${base}/api/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-API-Key': apiKey },
        body: JSON.stringify({
          commands: payloads.map((p) => ({ publish: { channel: stream, data: { p } } })),
        }),
      });
      if (!res.ok) throw new Error(`centrifugo publish: ${res.status} ${await res.text()}`);
    },
    async follow(stream, key, onEvent) {
      const client = new Centrifuge(`ws://127.0.0.1:${port}/connection/websocket`, {
        websocket: WebSocket,
        token,
      });
      const since = positions.get(key);
      const sub = client.newSubscription(stream, since ? { since } : {});
      sub.on('publication', (ctx) => {
        onEvent((ctx.data as { p: string }).p);
        if (ctx.offset !== undefined) {
          const at = positions.get(key);
          positions.set(key, { offset: ctx.offset, epoch: at?.epoch ?? '' });
        }
      });
      const subscribed = new Promise<void>((resolve, reject) => {
        sub.on('subscribed', (ctx) => {
          if (ctx.streamPosition)
            positions.set(key, {
              ...ctx.streamPosition,
              offset: positions.get(key)?.offset ?? ctx.streamPosition.offset,
            });
          resolve();
        });
        sub.on('error', (ctx) => reject(new Error(String(ctx.error?.message))));
      });
      sub.subscribe();
      client.connect();
      await subscribed;
      return {
        close: async () => {
          sub.unsubscribe();
          client.disconnect();
        },
      };
    },
    async stop() {
      await stopChild(child);
    },
  };
}
