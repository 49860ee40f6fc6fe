/**
 * Bounds on what one caller can make the module store. Every argument a reducer keeps is length-capped,
 * and the rows an identity can create are counted, so no identity grows the database without bound.
 */

/** A client (device) id, a presence session or device id. */
export const MAX_CLIENT_ID = 256;
/** Checkpoints one identity holds: (client, stream) pairs. */
export const MAX_CHECKPOINTS_PER_IDENTITY = 1024;
/** Presence sessions one identity holds at once. */
export const MAX_SESSIONS_PER_IDENTITY = 64;
/** Streams one presence row may list, and the presence state's length. */
export const MAX_PRESENCE_STREAMS = 256;
export const MAX_PRESENCE_STATE = 64;
/** Stream ids anywhere (the contract's limit). */
export const MAX_STREAM_ID = 256;
