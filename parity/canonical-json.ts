/**
 * Parity recomputes the legacy lane's payload hash `khala.payload_hash.v1` on both lanes' payloads
 * (the lanes hash different things: the legacy lane the canonical document, ours the exact bytes).
 * One implementation serves both: the lane's own, in legacy/protocol/canonical-json.ts.
 */
export {
  canonicalJson,
  type JsonValue,
  legacyPayloadDigest as canonicalDigest,
} from '../legacy/protocol/canonical-json.js';
