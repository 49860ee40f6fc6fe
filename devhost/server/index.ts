export { type DevhostServer, type DevhostServerOptions, startServer } from './devhost-server.js';
export { identityFromClaims, identityToHex } from './identity.js';
export type { DevhostLogger } from './logger.js';
