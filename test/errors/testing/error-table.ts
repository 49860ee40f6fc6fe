/**
 * The error contract's table, shared by the boundary files (module-refusals, connect-kafka-
 * dispositions): a row is one failure caused for real, with what the contract fixes for it — the
 * Connect code and ErrorInfo a client reads off the wire, the detail message, the Kafka disposition.
 * `answersEveryRow` registers one test a row; `contractGaps` is what the rows of all boundaries
 * together leave out of the contract.
 */

import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { errorFromJsonBytes, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { expect, it } from 'vitest';
import { toConnectError } from '../../../adapter/errors/to-connect.js';
import { type KafkaDisposition, kafkaDisposition } from '../../../adapter/kafka/disposition.js';
import { ErrorInfoSchema, type ErrorReason } from '../../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { REASONS, SYNC_ERROR_REASONS } from '../../../shared/errors/reasons.js';
import { SyncError } from '../../../shared/errors/sync-error.js';

export interface Row {
  readonly failure: string;
  readonly cause: () => Promise<SyncError>;
  readonly code: Code;
  readonly reason: ErrorReason;
  readonly retryable: boolean;
  readonly detail?: { schema: DescMessage; fields: Record<string, unknown> };
  readonly kafka: KafkaDisposition;
}

export const detail = <D extends DescMessage>(schema: D, fields: Partial<MessageShape<D>>) => ({
  schema,
  fields,
});

/** What the call threw, as the boundary that meets it reads it. */
export async function refusal(
  call: Promise<unknown>,
  read: (e: unknown) => SyncError = SyncError.from,
): Promise<SyncError> {
  try {
    await call;
  } catch (e) {
    return read(e);
  }
  throw new Error('the call succeeded');
}

/** Serialised as the server sends it, parsed as a Connect client parses it. */
function overTheWire(error: ConnectError): ConnectError {
  return errorFromJsonBytes(
    errorToJsonBytes(error, {}),
    undefined,
    new ConnectError('unparseable', Code.Internal),
  );
}

/** One test a row: the failure's Connect answer over the wire and its Kafka disposition. */
export function answersEveryRow(rows: readonly Row[]): void {
  it.each(rows.map((r) => [r.failure, r] as const))('%s', async (_, row) => {
    const err = await row.cause();
    const seen = overTheWire(toConnectError(err));
    expect(seen.code).toBe(row.code);
    expect(seen.findDetails(ErrorInfoSchema)).toEqual([
      expect.objectContaining({ reason: row.reason, retryable: row.retryable }),
    ]);
    if (row.detail) {
      expect(seen.findDetails(row.detail.schema)).toEqual([expect.objectContaining(row.detail.fields)]);
    } else {
      expect(seen.details).toHaveLength(1); // ErrorInfo alone: the contract lists no detail message
    }
    expect(kafkaDisposition(err)).toBe(row.kafka);
  });
}

/**
 * What the rows leave out of the contract: reasons no row raises, rows whose detail message is not
 * the one the contract lists for their reason, and reasons with a detail message that no row shows.
 */
export function contractGaps(rows: readonly Row[]): {
  unraised: string[];
  wrongDetail: string[];
  detailNeverShown: string[];
} {
  const raised = new Set(rows.map((r) => r.reason));
  const gaps = { unraised: [] as string[], wrongDetail: [] as string[], detailNeverShown: [] as string[] };
  for (const r of SYNC_ERROR_REASONS) {
    const spec: { proto: ErrorReason; detail?: DescMessage } = REASONS[r];
    if (!raised.has(spec.proto)) gaps.unraised.push(r);
    const withDetail = rows.filter((row) => row.reason === spec.proto && row.detail);
    for (const row of withDetail) if (row.detail?.schema !== spec.detail) gaps.wrongDetail.push(row.failure);
    if (spec.detail && withDetail.length === 0) gaps.detailNeverShown.push(r);
  }
  return gaps;
}
