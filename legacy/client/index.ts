/** The legacy-lane client: what the parity harness and tools import. */
export type { LegacyUpdate } from './batch.js';
export { isLegacyLaneError, LegacyLaneError, type LegacyLaneErrorCode } from './errors.js';
export {
  type ClientStats,
  type LegacyClientOptions,
  LegacyLaneClient,
  type SubscribeOptions,
  type SubscribeResult,
} from './legacy-client.js';
export { UpdateDedupe } from './update-dedupe.js';
