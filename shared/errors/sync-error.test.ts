import { readFileSync } from 'node:fs';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { describe, expect, it, vi } from 'vitest';
import { moduleErrorMessage } from '../../module/src/errors.js';
import { ErrorReasonSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { REASONS, reasonOfProto, SYNC_ERROR_REASONS } from './reasons.js';
import { isSyncError, SyncError } from './sync-error.js';

const ERRORS_PROTO = new URL('../../proto/spacetime_sync/v1/errors.proto', import.meta.url);

/** What errors.proto's comments fix per reason: `// <CONNECT_CODE>[, <Detail>]: …` above each value. */
function contractFromProto(): Map<string, { code: string; detail?: string }> {
  const text = readFileSync(ERRORS_PROTO, 'utf8');
  const out = new Map<string, { code: string; detail?: string }>();
  for (const m of text.matchAll(
    /\/\/ ([A-Z_]+)(?:, (\w+Detail))?:[^\n]*\n(?:\s*\/\/[^\n]*\n)*\s*ERROR_REASON_(\w+) =/g,
  )) {
    out.set((m[3] as string).toLowerCase(), {
      code: (m[1] as string).toLowerCase(),
      ...(m[2] ? { detail: m[2] } : {}),
    });
  }
  return out;
}

describe('the closed reason set', () => {
  it('is exactly the contract ErrorReason values, each with the code and detail errors.proto gives it', () => {
    const protoNames = ErrorReasonSchema.values
      .filter((v) => v.number !== 0)
      .map((v) => v.localName.toLowerCase());
    expect([...SYNC_ERROR_REASONS].sort()).toEqual(protoNames.sort());
    const contract = contractFromProto();
    expect([...contract.keys()].sort()).toEqual(protoNames.sort());
    for (const r of SYNC_ERROR_REASONS) {
      const spec = REASONS[r];
      expect(reasonOfProto(spec.proto), r).toBe(r);
      expect(codeToString(spec.code), r).toBe(contract.get(r)?.code);
      expect('detail' in spec ? spec.detail.name : undefined, r).toBe(contract.get(r)?.detail);
    }
  });
});

describe('SyncError', () => {
  it('takes its code and retryability from the reason', () => {
    const e = new SyncError('revision_mismatch', 'read again');
    expect([codeToString(e.code), e.retryable]).toEqual(['aborted', true]);
    expect(new SyncError('conflict', 'x').retryable).toBe(false);
  });

  it('reads a module refusal with its detail, and anything else as unavailable keeping the cause', () => {
    const raised = new Error(
      `SenderError: ${moduleErrorMessage('unauthorized', 'not a writer', { action: 'append events', resource: 's' })}`,
    );
    const e = SyncError.from(raised);
    expect([e.reason, e.message, e.cause]).toEqual(['unauthorized', 'not a writer', raised]);
    expect(isSyncError(e, 'unauthorized') && e.detail?.action).toBe('append events');
    const crash = SyncError.from('socket hang up');
    expect([crash.reason, crash.message, crash.cause]).toEqual([
      'unavailable',
      'socket hang up',
      'socket hang up',
    ]);
    expect(SyncError.from(e)).toBe(e);
  });

  it('is recognised by shape across duplicated module instances, where instanceof fails', async () => {
    vi.resetModules();
    const copy = (await import('./sync-error.js')) as typeof import('./sync-error.js');
    expect(copy.SyncError).not.toBe(SyncError);
    const foreign = new copy.SyncError('conflict', 'from the other copy');
    expect(foreign instanceof SyncError).toBe(false);
    expect(isSyncError(foreign, 'conflict')).toBe(true);
    expect(SyncError.from(foreign)).toBe(foreign);
    expect(isSyncError(Object.assign(new Error('x'), { name: 'SyncError', reason: 'made_up' }))).toBe(false);
    expect(isSyncError(foreign, 'invalid')).toBe(false);
  });
});
