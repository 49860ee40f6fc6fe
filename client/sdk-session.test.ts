import { describe, expect, it } from 'vitest';
import { isLoopback } from './sdk-session.js';

describe('isLoopback (no compression on a socket that stays on the machine)', () => {
  it.each([
    ['ws://127.0.0.1:3000', true],
    ['ws://localhost:3000', true],
    ['ws://127.8.9.10', true],
    ['ws://[::1]:3000', true],
    ['wss://sync.example.com', false],
    ['ws://10.0.0.1:3000', false],
    ['ws://127.0.0.1.example.com', false],
    ['not a uri', false],
  ])('%s → %s', (uri, expected) => {
    expect(isLoopback(uri)).toBe(expected);
  });
});
