/**
 * The system a chaos run attacks, all real processes on loopback: its own Kafka broker, one devhost
 * process with a data dir, several adapter processes in one consumer group, desktop client processes,
 * and two TCP fault proxies (adapters -> SpacetimeDB, clients -> SpacetimeDB). The invariant side
 * (authority, head watcher) talks to Kafka and devhost directly, never through a proxy.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { waitForTopics } from '../adapter/kafka/topic-readiness.js';
import { PROBE_STREAM } from '../adapter/spacetime/delivery-probe.js';
import { createLogger } from '../adapter/telemetry/logger.js';
import { Authority } from './authority.js';
import { HeadWatcher } from './head-watcher.js';
import type { Target } from './invariants/collect.js';
import type { Truncation } from './invariants/history.js';
import { LegacyParity } from './legacy-parity.js';
import { TcpProxy } from './net/tcp-proxy.js';
import { adapterReady, startAdapterProc } from './procs/adapter-proc.js';
import { Broker } from './procs/broker.js';
import type { Proc } from './procs/child.js';
import { startClientProc } from './procs/client-proc.js';
import { type DevhostProc, SYNC_DB, startDevhostProc } from './procs/devhost-proc.js';
import { Tmpfs } from './procs/tmpfs.js';
import { grantedWriter } from './procs/writer.js';

export const MARKER_STREAM = 'chaos.marker';
/**
 * The chaos broker's group.min.session.timeout.ms and the adapters' session timeout: lowered from
 * Kafka's 6 s so a killed adapter's partitions move after 2 s (issue 17 allows it; a kill round
 * cost 6 s of waiting before). The adapters heartbeat every third of it.
 */
export const CHAOS_SESSION = { timeoutMs: 2_000, brokerMinMs: 1_000 } as const;
/** devhost's tmpfs: far more than a long run's commit log (the `disk_full` fault shrinks it to what is used). */
const DEVHOST_DISK_BYTES = 1024 * 1024 * 1024;

export interface WorldOptions {
  readonly adapters: number;
  readonly clients: number;
  readonly streams: number;
  readonly partitions: number;
  /** Run the legacy lane beside (default true): the legacy faults and the parity check. */
  readonly legacy?: boolean;
  readonly log: (line: string) => void;
}

const streamNames = (n: number) => Array.from({ length: n }, (_, i) => `chaos:${i}`);

export class World {
  readonly adapters: (Proc | undefined)[] = [];
  readonly clients: (Proc | undefined)[] = [];
  readonly streams: string[];
  /** History dropped on purpose (fault `offline_truncate`): the checker's notion of retired events. */
  readonly truncations: Truncation[] = [];
  /** devhost's data dir as a tmpfs of its own (the `disk_full` fault), or why it is not one. */
  disk: Tmpfs | string = 'not mounted';
  /** The legacy lane and the parity harness over the streams in parity, unless the run is without it. */
  parity: LegacyParity | undefined;
  /** Streams the offline_truncate fault may truncate: those not in parity (the legacy lane keeps its own history). */
  get truncatable(): string[] {
    const inParity = new Set(this.parity?.streams ?? []);
    return this.streams.filter((s) => !inParity.has(s));
  }
  private constructor(
    readonly o: WorldOptions,
    readonly dir: string,
    readonly broker: Broker,
    public devhost: DevhostProc,
    readonly adapterProxy: TcpProxy,
    readonly clientProxy: TcpProxy,
    readonly authority: Authority,
    readonly watcher: HeadWatcher,
    readonly topic: string,
    /** The adapters' token: a writer the owner granted, not the owner. */
    readonly writerToken: string,
  ) {
    this.streams = streamNames(o.streams);
  }

  static async start(o: WorldOptions): Promise<World> {
    const dir = await mkdtemp(join(tmpdir(), 'spacetime-sync-chaos-'));
    for (const d of ['kafka', 'devhost', 'clients', 'state']) await mkdir(join(dir, d));
    o.log(`chaos: work dir ${dir}`);
    const broker = await Broker.start(join(dir, 'kafka'), CHAOS_SESSION.brokerMinMs);
    o.log(`chaos: broker ${broker.brokers}`);
    const topic = 'chaos.authority';
    const admin = new kafkajs.Kafka({
      brokers: broker.brokers.split(','),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
    // Not kafkajs's waitForLeaders: on a broker just started, its metadata can answer "does not host
    // this topic-partition" for a moment after the creation, which that wait does not wait out.
    await admin.createTopics({
      topics: [{ topic, numPartitions: o.partitions }, { topic: 'chaos.dead-letter' }],
      waitForLeaders: false,
    });
    await admin.disconnect();
    await waitForTopics({
      brokers: broker.brokers.split(','),
      topics: [topic, 'chaos.dead-letter'],
      create: false,
      logger: createLogger({ level: 'silent' }),
    });
    const disk = await Tmpfs.mount(join(dir, 'devhost'), DEVHOST_DISK_BYTES);
    o.log(
      typeof disk === 'string'
        ? `chaos: devhost data on the work dir's disk (no tmpfs: ${disk}); the disk_full fault is left out`
        : `chaos: devhost data on a tmpfs of its own (${DEVHOST_DISK_BYTES / 2 ** 20} MiB) for the disk_full fault`,
    );
    const devhost = await startDevhostProc(join(dir, 'devhost'));
    o.log(`chaos: devhost ${devhost.url}`);
    const target = { host: '127.0.0.1', port: devhost.port };
    const adapterProxy = await TcpProxy.start({ ...target });
    const clientProxy = await TcpProxy.start({ ...target });
    const streams = streamNames(o.streams);
    const authority = new Authority({ brokers: broker.brokers, topic, streams });
    const watcher = new HeadWatcher(
      { uri: devhost.url, database: SYNC_DB, token: devhost.ownerToken },
      new Set([PROBE_STREAM]),
    );
    const writerToken = await grantedWriter({
      uri: devhost.url,
      database: SYNC_DB,
      ownerToken: devhost.ownerToken,
    });
    const world = new World(
      o,
      dir,
      broker,
      devhost,
      adapterProxy,
      clientProxy,
      authority,
      watcher,
      topic,
      writerToken,
    );
    world.disk = disk;
    try {
      await world.startRest(streams);
    } catch (e) {
      // Nothing of a run that could not start may outlive it (processes, the tmpfs); the dir is kept.
      o.log(`chaos: could not start, stopping what did: ${e instanceof Error ? e.message : String(e)}`);
      await world.stop(true).catch(() => {});
      throw e;
    }
    return world;
  }

  /** The legacy lane, the adapters and the clients of a world whose broker and devhost run. */
  private async startRest(streams: readonly string[]): Promise<void> {
    const { o } = this;
    if (o.legacy !== false) {
      // The second half of the streams (and the marker stream) in parity; the first half may be truncated.
      const inParity = [...streams.slice(Math.ceil(streams.length / 2)), MARKER_STREAM];
      this.parity = await LegacyParity.start({
        dir: this.dir,
        brokers: this.broker.brokers,
        topic: this.topic,
        streams: inParity,
        candidate: this.target,
        log: o.log,
      });
      o.log(`chaos: legacy lane ${this.parity.lane.url}, in parity: ${inParity.join(', ')}`);
    }
    await Promise.all(Array.from({ length: o.adapters }, (_, i) => this.startAdapter(i)));
    for (let i = 0; i < o.clients; i++) this.startClient(i);
  }

  get target(): Target {
    return { uri: this.devhost.url, database: SYNC_DB, token: this.devhost.ownerToken };
  }

  /** (Re)starts adapter slot `i` and waits until it is ready. */
  async startAdapter(i: number): Promise<void> {
    const p = startAdapterProc(`adapter-${i}`, {
      spacetimeUri: this.adapterProxy.url,
      database: SYNC_DB,
      token: this.writerToken,
      brokers: this.broker.brokers,
      topic: this.topic,
      groupId: 'chaos',
      deadLetterTopic: 'chaos.dead-letter',
      session: CHAOS_SESSION,
      env: { PROBE_INTERVAL_MS: '0', SPACETIME_SYNC_STATE_DIR: join(this.dir, 'state', `adapter-${i}`) },
    });
    this.adapters[i] = p;
    await adapterReady(p, 180_000);
  }

  startClient(i: number): Proc {
    const p = startClientProc({
      clientId: `chaos-client-${i}`,
      journal: this.journal(i),
      uri: this.clientProxy.url,
      database: SYNC_DB,
      token: this.devhost.ownerToken,
      streams: this.streams,
      markerStream: MARKER_STREAM,
    });
    this.clients[i] = p;
    return p;
  }

  journal(i: number): string {
    return join(this.dir, 'clients', `client-${i}.jsonl`);
  }

  /** Publishes one marker event and returns its seq (stream seq = authority seq: nothing is lost). */
  async marker(): Promise<bigint> {
    await this.authority.publish(1, MARKER_STREAM);
    return BigInt(this.authority.published.filter((p) => p.streamId === MARKER_STREAM).length);
  }

  /**
   * Every stream progresses: one event published to each chaos stream (so to every partition they
   * use) and the marker stream, resolved once SpacetimeDB stored all of them.
   */
  async progressEverywhere(timeoutMs: number): Promise<void> {
    const want = await this.authority.publishEach([...this.streams, MARKER_STREAM]);
    await this.watcher.until(
      () => [...want].every(([s, seq]) => (this.watcher.heads.get(s) ?? 0n) >= seq),
      timeoutMs,
      `one event on each of ${want.size} streams`,
    );
  }

  /** The marker stream's head has reached `seq`: SpacetimeDB stored it. */
  stored(seq: bigint, timeoutMs: number): Promise<void> {
    return this.watcher.until(
      () => (this.watcher.heads.get(MARKER_STREAM) ?? 0n) >= seq,
      timeoutMs,
      `marker ${seq}`,
    );
  }

  async stop(keep: boolean): Promise<void> {
    this.watcher.stop();
    await this.authority.close();
    for (const p of [...this.clients, ...this.adapters]) await p?.stop(5_000);
    await this.parity?.stop();
    await this.devhost.proc.stop();
    if (typeof this.disk !== 'string') {
      // Kept work dirs keep devhost's data: copied off the tmpfs before it goes.
      if (keep) await cp(join(this.dir, 'devhost'), join(this.dir, 'devhost-data'), { recursive: true });
      await this.disk.unmount();
    }
    await this.adapterProxy.stop();
    await this.clientProxy.stop();
    await this.broker.stop();
    if (!keep) await rm(this.dir, { recursive: true, force: true });
  }
}
