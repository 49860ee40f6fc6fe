/**
 * The two ways `publish` delivers envelopes: the Connect ingest API (answers after the commit, with
 * each envelope's seq), or a Kafka topic (answers with the partition and offset; the service appends
 * when it consumes it). The Kafka record is what the service's consumer reads: key = stream id,
 * value = the binary SyncEnvelope, no headers needed.
 */
import { toBinary } from '@bufbuild/protobuf';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { IngestService, PublishOutcome } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { UnreachableError } from '../exit-codes.js';
import { calling, serviceClient } from '../service-client.js';

export interface Sender {
  /** One receipt line per envelope, in order. */
  send(envelopes: readonly SyncEnvelope[]): Promise<string[]>;
  close(): Promise<void>;
}

export function ingestSender(url: string): Sender {
  const client = serviceClient(IngestService, url);
  return {
    async send(envelopes) {
      const r = await calling(url, () => client.publish({ envelopes: [...envelopes] }));
      return r.results.map((p) => {
        const e = envelopes[p.envelopeIndex];
        const outcome = PublishOutcome[p.outcome]?.toLowerCase() ?? String(p.outcome);
        return `${p.streamId}\tseq ${p.seq}\t${outcome}\tepoch ${p.epoch}\tkey ${e?.idempotencyKey}`;
      });
    },
    async close() {},
  };
}

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
