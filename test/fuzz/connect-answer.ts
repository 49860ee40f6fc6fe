/**
 * The contract every Connect fuzz target holds a running service to: a 200 whose body decodes as the
 * method's response, or a 4xx Connect error carrying an `ErrorInfo` with a contract `ErrorReason` —
 * never a 500, a dropped connection or an untyped error.
 */
import { type DescMessage, fromBinary, fromJson } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import { expect } from 'vitest';
import { ErrorInfoSchema, ErrorReason } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import type { Answer } from './connect-post.js';

const KNOWN_REASONS = new Set(Object.values(ErrorReason).filter((v) => typeof v === 'number' && v !== 0));

export function expectTypedAnswer(res: Answer, response: DescMessage, binary: boolean): void {
  const { bytes } = res;
  if (res.status === 200) {
    if (binary) fromBinary(response, bytes);
    else fromJson(response, JSON.parse(new TextDecoder().decode(bytes)));
    return;
  }
  expect(res.status, new TextDecoder().decode(bytes)).toBeLessThan(500);
  const error = errorFromJsonBytes(bytes, undefined, new ConnectError('no Connect error body'));
  const [info] = error.findDetails(ErrorInfoSchema);
  expect(info, `${res.status} ${error.message}`).toBeDefined();
  expect(KNOWN_REASONS.has(info?.reason as number), `reason ${info?.reason}`).toBe(true);
}
