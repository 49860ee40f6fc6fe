/**
 * What the host needs from durability: the `Durability` of devhost/durability, under the names the
 * host uses. Memory-only mode (no data dir) is its memory twin: durable the moment it commits.
 */
export type {
  DatabaseImage as Image,
  Durability as DurabilityPort,
  DurableTx as LoggedTx,
  SequenceAllocation as LoggedSequence,
  TableMutations as LoggedMutations,
} from '../durability/index.js';
export { memoryDurability as inMemoryDurability } from '../durability/index.js';
