/** The legacy-lane reference server, its journal and token helpers (the client is in ./client). */
export type { ExpectedClaims, Principal } from './auth/claims.js';
export { type Keyring, parseKeyring } from './auth/keyring.js';
export { type MintOptions, mintToken, verifyToken } from './auth/tokens.js';
export { type AcceptedEnvelopeSink, LegacyMirror, type MirrorOutcome } from './feed/mirror.js';
export { type DocKeyOf, gen1DocKey } from './feed/to-entry.js';
export { type AppendOutcome, type JournalEntry, LegacyJournal } from './journal/journal.js';
export { JournalCorruptError } from './journal/journal-file.js';
export { type LegacyLane, type LegacyLaneOptions, startLegacyLane } from './lane.js';
export {
  canonicalJson,
  type JsonValue,
  legacyPayloadDigest,
  legacyPayloadHash,
} from './protocol/canonical-json.js';
export { GEN1_TOPICS, type PolicyOverrides, type TopicPolicy, topicPolicy } from './protocol/topic-policy.js';
