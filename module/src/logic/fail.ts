/** A reducer refusal in the module's wire format (../errors.ts): `throw fail('conflict', '…', {…})`. */
import { SenderError } from 'spacetimedb/server';
import { type ModuleErrorFields, type ModuleErrorReason, moduleErrorMessage } from '../errors.ts';

export function fail<R extends ModuleErrorReason>(
  reason: R,
  text: string,
  fields: ModuleErrorFields[R],
): SenderError {
  return new SenderError(moduleErrorMessage(reason, text, fields));
}
