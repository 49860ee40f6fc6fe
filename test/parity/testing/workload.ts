/**
 * Test-only: a seeded authority workload — many streams over several authority topics, each topic
 * numbering its events (authority seq) the way one authority log does, with duplicates (the same
 * envelope again, as a redelivering producer sends it).
 */
import type { SyncEnvelope } from '../../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { syncEnvelope } from '../../support/envelopes.js';

/** mulberry32: small, seedable, good enough to pick streams. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Workload {
  private readonly seqs = new Map<string, bigint>();
  /** Every distinct event, in the order produced. */
  readonly events: SyncEnvelope[] = [];

  constructor(
    private readonly random: () => number,
    readonly streamsByTopic: Readonly<Record<string, readonly string[]>>,
  ) {}

  get streams(): string[] {
    return Object.values(this.streamsByTopic).flat();
  }

  event(topic: string, stream: string): SyncEnvelope {
    const seq = (this.seqs.get(topic) ?? 0n) + 1n;
    this.seqs.set(topic, seq);
    const body = JSON.stringify({
      stream,
      n: Number(seq),
      status: ['queued', 'running', 'done'][Number(seq % 3n)],
      projected_at: new Date(1_800_000_000_000 + Number(seq) * 1000).toISOString(),
    });
    const e = syncEnvelope(stream, `${topic}#${seq}`, body, seq, { authorityTopic: topic });
    this.events.push(e);
    return e;
  }

  /** `n` new events on random streams, with about `dupRate` of earlier events sent again. */
  round(n: number, dupRate = 0.15): SyncEnvelope[] {
    const out: SyncEnvelope[] = [];
    const topics = Object.keys(this.streamsByTopic);
    for (let i = 0; i < n; i++) {
      const topic = topics[Math.floor(this.random() * topics.length)] as string;
      const streams = this.streamsByTopic[topic] as readonly string[];
      out.push(this.event(topic, streams[Math.floor(this.random() * streams.length)] as string));
      if (this.events.length > 1 && this.random() < dupRate) {
        out.push(this.events[Math.floor(this.random() * (this.events.length - 1))] as SyncEnvelope);
      }
    }
    return out;
  }
}
