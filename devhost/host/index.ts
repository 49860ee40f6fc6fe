export {
  type DevhostDatabase,
  FATAL_ERROR_MESSAGE,
  type OpenDatabaseOptions,
  openDatabase,
} from './database.js';
export { type DurabilityPort, type Image, inMemoryDurability, type LoggedTx } from './durability-port.js';
export type { LogLevel } from './sys-abi.js';
