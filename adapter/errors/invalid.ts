/**
 * Broken contract rules as one `invalid` SyncError whose InvalidDetail lists every violation, not
 * just the first: protovalidate's (field path, rule id) as they are, and the adapter's own checks.
 */
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { pathToString } from '@bufbuild/protobuf/reflect';
import { createValidator } from '@bufbuild/protovalidate';
import { InvalidDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';

/** One broken rule (FieldViolation): `field` is the path from the request root. */
export interface Violation {
  readonly field: string;
  readonly ruleId: string;
  readonly description: string;
}

const validator = createValidator();

/** The message's protovalidate rules (the contract's), each broken one as a violation. */
export function contractViolations<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Violation[] {
  const result = validator.validate(schema, message);
  if (result.kind === 'valid') return [];
  if (result.kind === 'error')
    return [{ field: '', ruleId: 'validation.error', description: result.error.message }];
  return result.violations.map((v) => ({
    field: pathToString(v.field),
    ruleId: v.ruleId,
    description: v.message,
  }));
}

export function invalid(violations: readonly Violation[], cause?: unknown): SyncError<'invalid'> {
  const text = violations
    .map((v) => `${v.field ? `${v.field}: ` : ''}${v.description} [${v.ruleId}]`)
    .join('; ');
  return new SyncError('invalid', text, {
    detail: create(InvalidDetailSchema, { fieldViolations: [...violations] }),
    cause,
  });
}
