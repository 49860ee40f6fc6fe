/**
 * The authority a chaos run plays: publishes envelopes to Kafka keyed by stream id (the keying rule
 * that keeps one stream in one partition), each stream with its own authority topic and gapless
 * authority seqs, and remembers every event it published. A send the broker did not acknowledge is
 * retried until it is, so the published set is exactly what Kafka holds (at least once; the module
 * drops the duplicates by idempotency key).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import kafkajs from 'kafkajs';
import { SyncEnvelopeSchema } from '../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { hashPayload } from '../shared/payload-hash.js';
import type { PublishedEvent } from './invariants/history.js';

const { Kafka, logLevel } = kafkajs;
type Producer = ReturnType<InstanceType<typeof Kafka>['producer']>;

export interface AuthorityOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly streams: readonly string[];
  /** Test of the keying rule: send each event to this partition instead of keying by stream. */
  readonly partitionOf?: (index: number) => number;
}

export class Authority {
  readonly published: PublishedEvent[] = [];
  private readonly seqs = new Map<string, bigint>();
  private producer: Producer | undefined;
  private count = 0;
  /** Sends go out one after another: two in flight could land out of authority order when retried. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: AuthorityOptions) {}

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      const kafka = new Kafka({
        clientId: 'chaos-authority',
        brokers: this.o.brokers.split(','),
        logLevel: logLevel.NOTHING,
        retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
      });
      const p = kafka.producer({ allowAutoTopicCreation: false });
      await p.connect();
      this.producer = p;
    }
    return this.producer;
  }

  /** Builds the next event of `streamId`, recorded as published. */
  private next(streamId: string): { key: string; value: Buffer; partition?: number } {
    const seq = (this.seqs.get(streamId) ?? 0n) + 1n;
    this.seqs.set(streamId, seq);
    const index = this.count++;
    const payload = new TextEncoder().encode(
      JSON.stringify({ stream: streamId, n: Number(seq), at: Date.now() }),
    );
    const idempotencyKey = `${streamId}#${seq}`;
    const envelope = create(SyncEnvelopeSchema, {
      streamId,
      idempotencyKey,
      kind: 'chaos.v1',
      payload,
      ...hashPayload(payload),
      source: { authorityTopic: `chaos.${streamId}`, authoritySeq: seq },
      producedAt: timestampFromMs(Date.now()),
      protocolVersion: { major: 1, minor: 0 },
    });
    this.published.push({
      streamId,
      key: idempotencyKey,
      payloadHash: Buffer.from(envelope.payloadHash).toString('hex'),
      seq,
    });
    const partition = this.o.partitionOf?.(index);
    return {
      key: streamId,
      value: Buffer.from(toBinary(SyncEnvelopeSchema, envelope)),
      ...(partition !== undefined ? { partition } : {}),
    };
  }

  /** Publishes `n` events round-robin over the streams (or all to `only`); returns their keys. */
  async publish(n: number, only?: string): Promise<string[]> {
    const first = this.published.length;
    const messages = Array.from({ length: n }, () =>
      this.next(only ?? (this.o.streams[this.count % this.o.streams.length] as string)),
    );
    const sent = this.chain.then(() => this.send(messages));
    this.chain = sent;
    await sent;
    return this.published.slice(first, first + n).map((p) => p.key);
  }

  /** Publishes one event to each of `streams` in one send; returns each stream's new authority seq. */
  async publishEach(streams: readonly string[]): Promise<Map<string, bigint>> {
    const messages = streams.map((s) => this.next(s));
    const seqs = new Map(streams.map((s) => [s, this.seqs.get(s) ?? 0n]));
    const sent = this.chain.then(() => this.send(messages));
    this.chain = sent;
    await sent;
    return seqs;
  }

  /** Sends until acknowledged: a broker that is restarting or frozen only delays it. */
  private async send(messages: { key: string; value: Buffer; partition?: number }[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await (await this.connected()).send({ topic: this.o.topic, messages, acks: -1, timeout: 5_000 });
        return;
      } catch {
        await this.producer?.disconnect().catch(() => {});
        this.producer = undefined;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * 2 ** attempt)));
      }
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
  }
}
