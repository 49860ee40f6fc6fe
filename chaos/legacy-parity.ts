/**
 * The legacy lane inside a chaos run: the reference legacy server (its own process and journal) fed
 * the same authority events from Kafka by its own consumer group, a resuming legacy client behind a
 * fault proxy, a resuming client of our lane, and the parity harness comparing the two for the
 * whole run. Legacy faults: the lane killed with -9 and restarted on its journal, the legacy
 * client's socket dropped, reset or black-holed. At the end the harness settles and its divergence
 * count goes to the invariant checker (History.parity). Only streams the run never truncates on
 * purpose are in parity (the legacy lane keeps its own retention).
 */
import { join } from 'node:path';
import { CandidateCollector } from '../parity/collect/candidate.js';
import { LegacyCollector } from '../parity/collect/legacy.js';
import { type RunResult, runParity } from '../parity/harness.js';
import { GEN1_RULES, LaneMapping } from '../parity/mapping.js';
import type { Target } from './invariants/collect.js';
import { TcpProxy } from './net/tcp-proxy.js';
import { LegacyLaneProc } from './procs/legacy-proc.js';

/** The legacy topic of a chaos stream: its authority topic (chaos/authority.ts). */
export const legacyTopic = (streamId: string) => `chaos.${streamId}`;

export class LegacyParity {
  private done!: () => void;
  private run: Promise<RunResult> | undefined;

  private constructor(
    readonly lane: LegacyLaneProc,
    /** Legacy client -> lane: the legacy socket faults. */
    readonly proxy: TcpProxy,
    readonly legacy: LegacyCollector,
    readonly candidate: CandidateCollector,
    readonly streams: readonly string[],
    /** Each rebootstrap of the candidate client, `<stream> <reason with its numbers>`, in order. */
    readonly rebootstraps: string[],
  ) {}

  static async start(o: {
    dir: string;
    brokers: string;
    topic: string;
    streams: readonly string[];
    candidate: Target;
    /** The run's log: each rebootstrap of the candidate client goes there when it happens. */
    log?: (line: string) => void;
  }): Promise<LegacyParity> {
    const topics = o.streams.map(legacyTopic);
    const lane = new LegacyLaneProc({
      dataDir: join(o.dir, 'legacy'),
      brokers: o.brokers,
      topic: o.topic,
      servedTopics: topics,
    });
    await lane.start();
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: lane.port });
    const legacy = new LegacyCollector(
      { url: `${proxy.url}/socket/websocket`, token: () => lane.token() },
      topics,
    );
    const rebootstraps: string[] = [];
    // None is expected (the streams in parity are never truncated on purpose): say at once, between
    // the rounds, which stream and why, so a divergence at the end can be traced to its round.
    const candidate = new CandidateCollector(o.candidate, o.streams, new Map(), (stream, why) => {
      rebootstraps.push(`${stream} ${why}`);
      o.log?.(`parity: the candidate client rebootstrapped ${stream}: ${why}`);
    });
    const p = new LegacyParity(lane, proxy, legacy, candidate, o.streams, rebootstraps);
    const until = new Promise<void>((r) => {
      p.done = r;
    });
    p.run = runParity({
      legacy,
      candidate,
      scope: { topics: new Set(topics), streams: new Set(o.streams), horizon: false },
      mapping: new LaneMapping(GEN1_RULES),
      durationMs: 0,
      settleMs: 120_000,
      until,
    });
    return p;
  }

  /** The legacy client has applied the update of `streamId` at authority seq `seq`. */
  legacyHas(streamId: string, seq: bigint): boolean {
    const topic = legacyTopic(streamId);
    return this.legacy.entries.some(
      (e) => e.kind === 'update' && e.update.topic === topic && e.update.docVersion >= seq,
    );
  }

  /** kill -9 of the lane; restarted on the same journal and port after `pauseMs`. */
  async crash(pauseMs: number): Promise<void> {
    await this.lane.proc?.kill9();
    await new Promise((r) => setTimeout(r, pauseMs));
    await this.lane.start();
  }

  /** Ends collecting, waits for the lanes to agree (or the settle time), and says what diverged. */
  async finish(): Promise<{
    divergences: number;
    first?: string;
    compared: number;
    state: string;
    rebootstraps: readonly string[];
  }> {
    this.done();
    const r = await (this.run as Promise<RunResult>);
    const first = r.classification.divergences[0];
    return {
      divergences: r.classification.divergences.length + (r.state.t === 'failed' ? 1 : 0),
      ...(first
        ? { first: `${first.class} ${first.topic} ${first.detail}` }
        : r.state.t === 'failed'
          ? { first: `${r.state.lane} collector failed: ${r.state.why}` }
          : {}),
      compared: r.classification.compared,
      state: r.state.t === 'done' ? r.state.why : `failed (${r.state.lane})`,
      rebootstraps: this.rebootstraps,
    };
  }

  async stop(): Promise<void> {
    await this.legacy.stop().catch(() => {});
    await this.candidate.stop().catch(() => {});
    await this.lane.proc?.stop(5_000);
    await this.proxy.stop();
  }
}
