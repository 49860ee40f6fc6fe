/**
 * Test support: N shards as N devhost processes (each its own data dir, so one can be killed and
 * restarted alone), a writer identity granted on each, and `spacetime-sync start` adapter processes
 * configured with `SPACETIMEDB_SHARDS` and a per-shard writer token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target } from '../../../chaos/invariants/collect.js';
import { startAdapterProc } from '../../../chaos/procs/adapter-proc.js';
import type { Proc } from '../../../chaos/procs/child.js';
import { type DevhostProc, SYNC_DB, startDevhostProc } from '../../../chaos/procs/devhost-proc.js';
import { grantedWriter } from '../../../chaos/procs/writer.js';
import { shardTokenVariable } from '../../../shared/shards/config.js';
import { type ShardMap, shardMap } from '../../../shared/shards/route.js';
import { createTopics, kafkaBrokers, uniqueTopic } from '../../support/kafka-env.js';

export interface ShardProc {
  readonly name: string;
  devhost: DevhostProc;
  readonly dataDir: string;
  /** The owner's view, for reading what the shard holds. */
  readonly target: Target;
  /** The adapters' writer token on this shard's host. */
  readonly writerToken: string;
}

export class ShardedStack {
  readonly procs: Proc[] = [];
  readonly dirs: string[] = [];
  readonly shards: ShardProc[] = [];
  map: ShardMap = shardMap(['shard-0']);
  topic = '';
  deadLetterTopic = '';
  groupId = '';

  async tempDir(prefix: string): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  /** Starts `n` devhost processes and a topic of `partitions` partitions. */
  async start(n: number, partitions: number): Promise<void> {
    const names = Array.from({ length: n }, (_, i) => `shard-${i}`);
    this.map = shardMap(names);
    const started = await Promise.all(
      names.map(async (name) => {
        const dataDir = await this.tempDir(`${name}-`);
        const devhost = await startDevhostProc(dataDir);
        this.procs.push(devhost.proc);
        const target = { uri: devhost.url, database: SYNC_DB, token: devhost.ownerToken };
        const writerToken = await grantedWriter({ ...target, ownerToken: devhost.ownerToken });
        return { name, devhost, dataDir, target, writerToken };
      }),
    );
    this.shards.push(...started);
    this.topic = uniqueTopic('shards');
    this.deadLetterTopic = uniqueTopic('shards-dlq');
    this.groupId = uniqueTopic('shards-group');
    await createTopics({ topic: this.topic, numPartitions: partitions }, { topic: this.deadLetterTopic });
  }

  /** kill -9 of a shard's devhost. */
  async killShard(name: string): Promise<void> {
    await this.shard(name).devhost.proc.kill9();
  }

  /** The shard's devhost again, on the same data dir and port. */
  async restartShard(name: string): Promise<void> {
    const s = this.shard(name);
    s.devhost = await startDevhostProc(s.dataDir, s.devhost.port);
    this.procs.push(s.devhost.proc);
  }

  shard(name: string): ShardProc {
    const s = this.shards.find((x) => x.name === name);
    if (!s) throw new Error(`no shard ${name}`);
    return s;
  }

  /** The environment of an adapter (or a CLI command) that routes over these shards. */
  shardEnv(): Record<string, string> {
    return {
      SPACETIMEDB_SHARDS: this.shards.map((s) => `${s.name}=${s.devhost.url}/${SYNC_DB}`).join(','),
      ...Object.fromEntries(this.shards.map((s) => [shardTokenVariable(s.name), s.writerToken])),
    };
  }

  /** A `spacetime-sync start` process consuming the topic in the group, writing to every shard. */
  async adapter(name: string): Promise<Proc> {
    const p = startAdapterProc(name, {
      spacetimeUri: '',
      database: '',
      token: '',
      brokers: kafkaBrokers().join(','),
      topic: this.topic,
      groupId: this.groupId,
      deadLetterTopic: this.deadLetterTopic,
      env: {
        ...this.shardEnv(),
        PROBE_INTERVAL_MS: '0',
        SPACETIME_SYNC_STATE_DIR: await this.tempDir(`${name}-state-`),
      },
    });
    this.procs.push(p);
    await p.waitFor(/"msg":"ready"/, 120_000);
    return p;
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) await p.kill9();
    for (const d of this.dirs) await rm(d, { recursive: true, force: true });
  }
}

/** The adapter's HTTP base URL, from its start-up log. */
export async function httpUrl(p: Proc): Promise<string> {
  return (await p.waitFor(/\/metrics \S+ \S+ on (http:\/\/[\d.:]+)/))[1] as string;
}
