import { describe, expect, it } from 'vitest';
import { INITIAL_OUTBOX_STATE, nextOutboxState, type OutboxState } from './outbox-state.js';

describe('nextOutboxState', () => {
  it('goes live on its own subscription, backs off when lost, reconnects as a new generation', () => {
    let s: OutboxState = nextOutboxState(INITIAL_OUTBOX_STATE, { type: 'subscribed', generation: 1 });
    expect(s).toEqual({ tag: 'live', generation: 1 });
    s = nextOutboxState(s, { type: 'lost', generation: 1, why: 'closed' });
    expect(s).toEqual({ tag: 'backoff', generation: 1, attempt: 1, why: 'closed' });
    s = nextOutboxState(s, { type: 'retry' });
    expect(s).toEqual({ tag: 'connecting', generation: 2, attempt: 1 });
  });

  it("ignores a dropped connection's late callbacks", () => {
    const s: OutboxState = { tag: 'connecting', generation: 2, attempt: 1 };
    expect(nextOutboxState(s, { type: 'subscribed', generation: 1 })).toBe(s);
    expect(nextOutboxState(s, { type: 'lost', generation: 1, why: 'old socket closed' })).toBe(s);
  });

  it('stays stopped', () => {
    const s = nextOutboxState(INITIAL_OUTBOX_STATE, { type: 'stop' });
    expect(nextOutboxState(s, { type: 'retry' })).toBe(s);
    expect(nextOutboxState(s, { type: 'subscribed', generation: 1 })).toBe(s);
  });
});
