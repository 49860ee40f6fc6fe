/**
 * How far the consumer group trails each partition, from Kafka's own committed offsets: the view
 * lag tooling has (AdminService `GetStatus`). The live gauge `consumer_lag` is set by the batch loop
 * at each commit; this asks the broker.
 */
import type { KafkaClient } from './kafka-client.js';

export interface PartitionLagInfo {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group reads; -1 before its first commit. */
  readonly committedOffset: bigint;
  readonly endOffset: bigint;
  readonly lag: bigint;
}

/** Committed offset, end offset and lag of every partition of `topics`, sorted by topic and partition. */
export async function partitionLag(
  kafka: KafkaClient,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLagInfo[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: PartitionLagInfo[] = [];
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const end of ends) {
        const c = BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
        const endOffset = BigInt(end.high);
        const lag = endOffset - (c < 0n ? 0n : c);
        out.push({
          topic,
          partition: end.partition,
          committedOffset: c,
          endOffset,
          lag: lag < 0n ? 0n : lag,
        });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}
