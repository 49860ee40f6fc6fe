/**
 * The sync protocol version this service speaks, and the two places a peer's version is judged:
 * `Negotiate` (highest shared major, lower of the two minors) and each envelope's own
 * `protocol_version`. Majors must match; a mismatch is `protocol_version_mismatch` with what the
 * server accepts, as the contract (protocol.proto) says.
 */
import { create } from '@bufbuild/protobuf';
import { ProtocolVersionMismatchDetailSchema } from '../proto/gen/spacetime_sync/v1/errors_pb.js';
import { type ProtocolVersion, ProtocolVersionSchema } from '../proto/gen/spacetime_sync/v1/protocol_pb.js';
import { SyncError } from '../shared/errors/sync-error.js';

export const SERVER_PROTOCOL = { major: 1, minor: 0 } as const;

export const acceptedProtocols = (): ProtocolVersion[] => [create(ProtocolVersionSchema, SERVER_PROTOCOL)];

const show = (v: ProtocolVersion) => `${v.major}.${v.minor}`;

function mismatch(offered: readonly ProtocolVersion[], text: string): SyncError<'protocol_version_mismatch'> {
  return new SyncError('protocol_version_mismatch', text, {
    detail: create(ProtocolVersionMismatchDetailSchema, {
      accepted: acceptedProtocols(),
      offered: [...offered],
    }),
  });
}

/** The version both sides use, or the refusal when no major is shared. */
export function negotiate(supported: readonly ProtocolVersion[]): ProtocolVersion | SyncError {
  const same = supported.filter((v) => v.major === SERVER_PROTOCOL.major);
  if (same.length === 0) {
    return mismatch(
      supported,
      `no shared protocol major: the server speaks ${SERVER_PROTOCOL.major}.x, the caller offered ${supported.map(show).join(', ')}`,
    );
  }
  const minor = Math.min(SERVER_PROTOCOL.minor, Math.max(...same.map((v) => v.minor)));
  return create(ProtocolVersionSchema, { major: SERVER_PROTOCOL.major, minor });
}

/** An envelope written for another major is refused; any minor of ours is read (minors only add). */
export function checkEnvelopeProtocol(
  version: ProtocolVersion | undefined,
  label = 'envelope',
): SyncError | undefined {
  if (!version || version.major === SERVER_PROTOCOL.major) return undefined;
  return mismatch(
    [version],
    `${label} is written for protocol ${show(version)}; the server speaks ${SERVER_PROTOCOL.major}.x`,
  );
}
