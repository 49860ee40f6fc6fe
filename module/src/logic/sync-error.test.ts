import { describe, expect, it } from 'vitest';
import { parseSyncError, syncErrorMessage } from './sync-error.ts';

describe('sync error messages', () => {
  it('round-trip through the SenderError text the SDK reports', () => {
    const msg = syncErrorMessage('conflict', "stream 's' key 'k' already holds seq 4");
    expect(msg).toBe("already_exists/conflict: stream 's' key 'k' already holds seq 4");
    expect(parseSyncError(`SenderError: ${msg}`)).toEqual({
      code: 'already_exists',
      reason: 'conflict',
      detail: "stream 's' key 'k' already holds seq 4",
    });
  });

  it('does not claim messages the module did not raise', () => {
    expect(parseSyncError('The instance encountered a fatal error.')).toBeUndefined();
    expect(parseSyncError('not_found/conflict: mismatched code and reason')).toBeUndefined();
  });
});
