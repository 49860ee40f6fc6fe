/**
 * A PublishRequest judged as a whole before anything is written: every broken contract rule of every
 * envelope (protovalidate, then the payload hash) in one `invalid`, with field paths from the request
 * root (`envelopes[2].payload_hash`), and the pipelining pair (publisher_id with publisher_seq); then
 * each envelope's protocol major.
 */
import {
  type PublishRequest,
  PublishRequestSchema,
} from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import type { SyncError } from '../../shared/errors/sync-error.js';
import { hashViolation } from '../envelope/decode.js';
import { contractViolations, invalid } from '../errors/invalid.js';
import { checkEnvelopeProtocol } from '../protocol.js';

export function checkPublish(req: PublishRequest): SyncError | undefined {
  const violations = contractViolations(PublishRequestSchema, req);
  // Pipelining names the publisher and numbers its requests from 1: both fields or neither.
  if ((req.publisherId === '') !== (req.publisherSeq === 0n)) {
    violations.push({
      field: req.publisherId === '' ? 'publisher_id' : 'publisher_seq',
      ruleId: 'publish.publisher_sequence',
      description: 'publisher_id and publisher_seq (from 1) are set together or not at all',
    });
  }
  for (const [i, envelope] of req.envelopes.entries()) {
    violations.push(...hashViolation(envelope, `envelopes[${i}].`, violations));
  }
  if (violations.length > 0) return invalid(violations);
  for (const [i, envelope] of req.envelopes.entries()) {
    const mismatch = checkEnvelopeProtocol(envelope.protocolVersion, `envelopes[${i}]`);
    if (mismatch) return mismatch;
  }
  return undefined;
}
