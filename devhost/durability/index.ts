/**
 * devhost durability: an append-only, CRC-checked commit log of committed transactions plus periodic
 * snapshots, modelled on SpacetimeDB's crates/commitlog, crates/durability and crates/snapshot.
 * Recovery = newest valid snapshot + the log after it; a torn log tail is cut away.
 */
export { openDurability } from './disk-durability.js';
export { DurabilityError, type DurabilityErrorCode, isDurabilityError } from './errors.js';
export { memoryDurability } from './memory-durability.js';
export type {
  DatabaseImage,
  Durability,
  DurabilityOptions,
  DurableTx,
  FsyncPolicy,
  HistoryCutReport,
  SequenceAllocation,
  TableMutations,
} from './types.js';
