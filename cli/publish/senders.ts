/**
 * The two ways `publish` delivers envelopes: the Connect ingest API (answers after the commit, with
 * each envelope's seq), or a Kafka topic (answers with the partition and offset; the service appends
 * when it consumes it). The Kafka record is what the service's consumer reads: key = stream id,
 * value = the binary SyncEnvelope, no headers needed.
 */
import { randomUUID } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { UnreachableError } from '../exit-codes.js';
import { calling, RefusedError, serviceClient } from '../service-client.js';
import { sendInOrder } from './in-order-resend.js';

export interface Sender {
  /** One receipt line per envelope, in order. */
  send(envelopes: readonly SyncEnvelope[]): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The ingest API. With `pipelined`, the sender names itself (a fresh publisher id per run) and numbers
 * its calls, so several may be in flight and the service still applies them in call order; a call the
 * service refuses as out of order (its predecessor had not landed in time) is sent again once that
 * predecessor has answered (in-order-resend.ts).
 */
export function ingestSender(url: string, pipelined = false): Sender {
  const client = serviceClient(IngestService, url);
  const publisherId = pipelined ? randomUUID() : '';
  let seq = 0n;
  // The previous call, settled when its answer came: a call refused out of order waits for it.
  let previous: Promise<unknown> | undefined;
  return {
    async send(envelopes) {
      // Numbered now, synchronously: the numbering is the order of the send() calls.
      const numbered = pipelined ? { publisherId, publisherSeq: ++seq } : {};
      const publish = () => calling(url, () => client.publish({ envelopes: [...envelopes], ...numbered }));
      const call = pipelined ? sendInOrder(publish, previous, outOfOrder) : publish();
      previous = call;
      const answer = await call;
      return answer.results.map((p) => {
        const e = envelopes[p.envelopeIndex];
        const outcome = PublishOutcome[p.outcome]?.toLowerCase() ?? String(p.outcome);
        return `${p.streamId}\tseq ${p.seq}\t${outcome}\tepoch ${p.epoch}\tkey ${e?.idempotencyKey}`;
      });
    },
    async close() {},
  };
}

const outOfOrder = (r: unknown) =>
  r instanceof RefusedError && r.reason === ErrorReason.OUT_OF_ORDER_SEQUENCE;

export async function kafkaSender(brokers: readonly string[], topic: string): Promise<Sender> {
  const { default: kafkajs } = await import('kafkajs');
  const kafka = new kafkajs.Kafka({
    clientId: 'spacetime-sync-publish',
    brokers: [...brokers],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 3 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await producer.connect();
  } catch (e) {
    throw new UnreachableError(`no Kafka answers at ${brokers.join(',')}: ${(e as Error).message}`);
  }
  return {
    async send(envelopes) {
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: envelopes.map((e) => ({
          key: e.streamId,
          value: Buffer.from(toBinary(SyncEnvelopeSchema, e)),
        })),
      });
      // One stream, so one key and one partition: the batch's records sit at consecutive offsets.
      const base = BigInt(meta?.baseOffset ?? '0');
      return envelopes.map(
        (e, i) =>
          `${e.streamId}\tsent to ${topic}/${meta?.partition}@${base + BigInt(i)}\tkey ${e.idempotencyKey}\tauthority seq ${e.source?.authoritySeq}`,
      );
    },
    async close() {
      await producer.disconnect();
    },
  };
}
