/** The controller's refusals as the contract's SyncErrors: a refused move, failing gates, no admin. */
import { create } from '@bufbuild/protobuf';
import { UnauthorizedDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';
import { invalid } from '../errors/invalid.js';
import type { GateResult } from './gates.js';

export const refusedTransition = (why: string): SyncError<'invalid'> =>
  invalid([{ field: 'to', ruleId: 'cutover.transition', description: why }]);

/** One violation per failing gate, `gates.<name>`, with the reading against its threshold. */
export const failingGates = (bad: readonly GateResult[]): SyncError<'invalid'> =>
  invalid(
    bad.map((g) => ({ field: `gates.${g.gate}`, ruleId: `cutover.gate.${g.gate}`, description: g.text })),
  );

export const unauthorizedMove = (message: string): SyncError<'unauthorized'> =>
  new SyncError('unauthorized', message, {
    detail: create(UnauthorizedDetailSchema, { action: 'move the cutover', resource: 'cutover' }),
  });

export const missingOperatorToken = (): SyncError<'invalid'> =>
  invalid([
    {
      field: 'header spacetime-sync-operator-token',
      ruleId: 'cutover.operator_token.required',
      description: "moving the cutover needs a cutover admin's SpacetimeDB token in this header",
    },
  ]);
