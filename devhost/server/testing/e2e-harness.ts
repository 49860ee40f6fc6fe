/**
 * What the server's end-to-end tests share: the reference module hosted for real, a `ws`-backed global
 * WebSocket for the unmodified SDK (Node 20 has none), SDK connections through the generated test
 * bindings, and a raw protocol client for what the SDK hides (frames, compression, exact messages).
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { AlgebraicType, BinaryReader, BinaryWriter, type Identity } from 'spacetimedb';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { DatabaseRegistry, HostedDatabase } from '../../contract.js';
import {
  type DevhostDatabase,
  type DurabilityPort,
  inMemoryDurability,
  type LoggedTx,
  openDatabase,
} from '../../host/index.js';
import { bundleModule } from '../../loader/index.js';
import { ClientMessage, ServerMessage } from '../../stdb-internal/client-api.js';
import { DbConnection } from '../../testdata/test-module-bindings/index.js';
import { V2_PROTOCOL, V3_PROTOCOL } from '../framing.js';

export const TEST_MODULE = new URL('../../testdata/test-module/index.ts', import.meta.url).pathname;

let bundled: Promise<string> | undefined;
/** The reference module, bundled once per test file. */
export function testModuleBundle(): Promise<string> {
  bundled ??= bundleModule(TEST_MODULE);
  return bundled;
}

export async function openTestDatabase(
  name: string,
  options: { owner?: bigint; durability?: DurabilityPort } = {},
): Promise<DevhostDatabase> {
  return openDatabase({ name, bundle: await testModuleBundle(), ...options });
}

export function registry(...dbs: HostedDatabase[]): DatabaseRegistry {
  const byName = new Map(dbs.map((db) => [db.name, db]));
  return { get: (name) => byName.get(name) };
}

// ---- the SDK's WebSocket ----

let sdkProtocol: 'v3' | 'v2' = 'v3';

/**
 * The global WebSocket the SDK constructs. The SDK always offers v3 and v2; offering only v2 here is
 * how the v2 path of the unmodified SDK is exercised.
 */
class SdkWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    const offered = typeof protocols === 'string' ? [protocols] : (protocols ?? []);
    super(url, sdkProtocol === 'v2' ? offered.filter((p) => p !== V3_PROTOCOL) : offered);
  }
}

export function installSdkWebSocket(): void {
  (globalThis as { WebSocket?: unknown }).WebSocket = SdkWebSocket;
}

export interface SdkClient {
  readonly conn: DbConnection;
  readonly identity: Identity;
  readonly token: string;
}

export interface SdkConnectOptions {
  readonly protocol?: 'v3' | 'v2';
  readonly token?: string;
  readonly compression?: 'gzip' | 'none';
  readonly confirmedReads?: boolean;
}

/** Connects with the generated bindings; resolves on `onConnect`. Connect one client at a time. */
export function connectSdk(
  url: string,
  database: string,
  options: SdkConnectOptions = {},
): Promise<SdkClient> {
  sdkProtocol = options.protocol ?? 'v3';
  return new Promise((resolve, reject) => {
    const builder = DbConnection.builder()
      .withUri(url)
      .withDatabaseName(database)
      .onConnect((conn, identity, token) => resolve({ conn, identity, token }))
      .onConnectError((_ctx, error) => reject(error))
      .onDisconnect((_ctx, error) => reject(error ?? new Error('disconnected before connect')));
    if (options.token !== undefined) builder.withToken(options.token);
    if (options.compression !== undefined) builder.withCompression(options.compression);
    if (options.confirmedReads !== undefined) builder.withConfirmedReads(options.confirmedReads);
    builder.build();
  });
}

export function settle(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- raw protocol client ----

export type ServerMessageOf<T extends ServerMessage['tag']> = Extract<ServerMessage, { tag: T }>['value'];

export interface RawFrame {
  readonly compressionTag: number;
  readonly messages: ServerMessage[];
}

export interface RawOpenOptions {
  readonly protocols?: readonly string[];
  /** Query string parameters (compression, confirmed, token, ...). */
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly wsOptions?: WebSocket.ClientOptions;
}

let readServerMessage: ((reader: BinaryReader) => ServerMessage) | undefined;

/** A websocket client speaking the wire protocol directly, recording every frame it receives. */
export class RawClient {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly reader = new BinaryReader(new Uint8Array(0));

  private constructor(
    readonly ws: WebSocket,
    readonly upgradeHeaders: Readonly<Record<string, string | string[] | undefined>>,
  ) {
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
    ws.on('message', (data: Buffer) => {
      const tag = data[0] as number;
      const body = data.subarray(1);
      const plain = tag === 2 ? gunzipSync(body) : tag === 1 ? brotliDecompressSync(body) : body;
      this.reader.reset(plain);
      const messages: ServerMessage[] = [];
      // The public deserializer: the package's generated one is bound to its sources' BinaryReader class.
      readServerMessage ??= AlgebraicType.makeDeserializer(ServerMessage.algebraicType as never) as (
        r: BinaryReader,
      ) => ServerMessage;
      while (this.reader.remaining > 0) messages.push(readServerMessage(this.reader));
      this.frames.push({ compressionTag: tag, messages });
    });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get messages(): ServerMessage[] {
    return this.frames.flatMap((f) => f.messages);
  }

  static open(url: string, database: string, options: RawOpenOptions = {}): Promise<RawClient> {
    const target = new URL(`v1/database/${database}/subscribe`, url.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(options.query ?? {})) target.searchParams.set(k, v);
    const ws = new WebSocket(target, [...(options.protocols ?? [V3_PROTOCOL, V2_PROTOCOL])], {
      ...(options.headers ? { headers: { ...options.headers } } : {}),
      ...options.wsOptions,
    });
    return new Promise((resolve, reject) => {
      ws.once('upgrade', (res) => {
        const client = new RawClient(ws, res.headers);
        ws.once('open', () => resolve(client));
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
    });
  }

  /** Sends the messages: one per frame, or all in one frame (v3 allows that). */
  send(messages: ClientMessage | ClientMessage[], oneFrame = false): void {
    const list = Array.isArray(messages) ? messages : [messages];
    const encode = (m: ClientMessage) => {
      const w = new BinaryWriter(64);
      ClientMessage.serialize(w, m);
      return w.getBuffer();
    };
    if (oneFrame) this.ws.send(Buffer.concat(list.map(encode)));
    else for (const m of list) this.ws.send(encode(m));
  }

  /** The first received message with this tag that satisfies `match` (waits for it). */
  async next<T extends ServerMessage['tag']>(
    tag: T,
    match: (value: ServerMessageOf<T>) => boolean = () => true,
    ms = 5_000,
  ): Promise<ServerMessageOf<T>> {
    const find = () =>
      this.messages.find((m) => m.tag === tag && match(m.value as unknown as ServerMessageOf<T>))?.value as
        | ServerMessageOf<T>
        | undefined;
    await expect.poll(find, { timeout: ms, interval: 5, message: `a ${tag} message` }).toBeDefined();
    return find() as unknown as ServerMessageOf<T>;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

/** BSATN of a reducer's argument product, for raw CallReducer messages. */
export function reducerArgs(db: DevhostDatabase, reducer: string, value: object): Uint8Array {
  const r = db.schema.reducerByName(reducer);
  if (!r) throw new Error(`no reducer ${reducer}`);
  const w = new BinaryWriter(64);
  AlgebraicType.makeSerializer(r.params, db.schema.typespace as never)(w, value);
  return w.getBuffer();
}

/** Decodes BSATN rows of a table with its row type. */
export function decodeRows<T>(db: DevhostDatabase, table: string, rowsData: Uint8Array): T[] {
  const t = db.schema.tableByName(table);
  if (!t) throw new Error(`no table ${table}`);
  const de = AlgebraicType.makeDeserializer(t.rowType, db.schema.typespace as never);
  const reader = new BinaryReader(rowsData);
  const out: T[] = [];
  while (reader.remaining > 0) out.push(de(reader) as T);
  return out;
}

// ---- durability the test controls ----

/** In-memory durability whose durable offset only advances while not held. */
export class ManualDurability implements DurabilityPort {
  private readonly inner = inMemoryDurability();
  private appended = -1n;
  private durable = -1n;
  private held = false;
  private waiters: Array<{ offset: bigint; resolve: () => void }> = [];

  get recovered() {
    return this.inner.recovered;
  }
  get meta() {
    return this.inner.meta;
  }
  setMeta(meta: Record<string, string>): void {
    this.inner.setMeta(meta);
  }
  append(tx: LoggedTx): void {
    this.appended = tx.offset;
    if (!this.held) this.advance();
  }
  durableOffset(): bigint {
    return this.durable;
  }
  waitDurable(offset: bigint): Promise<void> {
    if (offset <= this.durable) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ offset, resolve }));
  }
  shouldSnapshot(): boolean {
    return false;
  }
  async snapshot(): Promise<void> {}
  async close(): Promise<void> {}

  /** Stop advancing the durable offset (as if fsync stalled). */
  hold(): void {
    this.held = true;
  }
  /** Make everything appended durable and keep doing so. */
  release(): void {
    this.held = false;
    this.advance();
  }
  private advance(): void {
    this.durable = this.appended;
    const ready = this.waiters.filter((w) => w.offset <= this.durable);
    this.waiters = this.waiters.filter((w) => w.offset > this.durable);
    for (const w of ready) w.resolve();
  }
}
