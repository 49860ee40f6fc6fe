import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, reply } from './frames.js';

describe('Phoenix V2 frames', () => {
  it('decodes the join an OA client sent and encodes the array back byte for byte', () => {
    const text = '[null,"1","sync:v1","phx_join",{}]';
    const d = decodeFrame(text);
    expect(d).toEqual({
      ok: true,
      frame: { joinRef: null, ref: '1', topic: 'sync:v1', event: 'phx_join', payload: {} },
    });
    if (d.ok) expect(encodeFrame(d.frame)).toBe(text);
  });

  it('a reply echoes the request refs and wraps status and response', () => {
    const f = reply({ joinRef: '1', ref: '7', topic: 'sync:v1' }, 'error', { code: 'bad_subscription' });
    expect(encodeFrame(f)).toBe(
      '["1","7","sync:v1","phx_reply",{"status":"error","response":{"code":"bad_subscription"}}]',
    );
  });

  it.each([
    ['not JSON', '[null,"1",'],
    ['an object (V1 serializer shape)', '{"topic":"sync:v1","event":"phx_join","payload":{},"ref":"1"}'],
    ['four elements', '[null,"1","sync:v1","phx_join"]'],
    ['a numeric ref', '[null,1,"sync:v1","phx_join",{}]'],
    ['a non-string event', '[null,"1","sync:v1",5,{}]'],
  ])('refuses %s with a reason', (_name, text) => {
    const d = decodeFrame(text);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason.length).toBeGreaterThan(0);
  });
});
