import { describe, expect, it } from 'vitest';
import { moduleErrorMessage, parseModuleError } from './errors.ts';

describe('module error wire text', () => {
  it('round-trips reason, sentence and fields through the SenderError text the SDK reports', () => {
    const msg = moduleErrorMessage('conflict', "stream 's' key 'k' already holds seq 4", {
      stream_id: 's',
      idempotency_key: 'k',
      existing_seq: 4n,
      existing_payload_hash: new Uint8Array([0, 171, 255]),
      envelope_index: 2,
    });
    expect(msg.split('\n')[0]).toBe("conflict: stream 's' key 'k' already holds seq 4");
    expect(parseModuleError(`SenderError: ${msg}`)).toEqual({
      reason: 'conflict',
      text: "stream 's' key 'k' already holds seq 4",
      fields: {
        stream_id: 's',
        idempotency_key: 'k',
        existing_seq: '4',
        existing_payload_hash: '00abff',
        envelope_index: 2,
      },
    });
  });

  it('keeps a sentence that itself holds newlines and braces intact', () => {
    const text = 'no stream \'a\n{"x":1}\'';
    const parsed = parseModuleError(moduleErrorMessage('unknown_stream', text, { resource: 'a\n{"x":1}' }));
    expect(parsed?.text).toBe(text);
    expect(parsed?.fields).toEqual({ resource: 'a\n{"x":1}' });
  });

  it('does not claim messages the module did not raise', () => {
    expect(parseModuleError('The instance encountered a fatal error.')).toBeUndefined();
    expect(parseModuleError('conflict: no fields line')).toBeUndefined();
    expect(parseModuleError('unavailable: not a module reason\n{}')).toBeUndefined();
    expect(parseModuleError('conflict: fields are not an object\n[1]')).toBeUndefined();
    expect(parseModuleError('conflict: nested values are not wire values\n{"a":{"b":1}}')).toBeUndefined();
  });
});
