import { describe, expect, it } from 'vitest';
import { type LinkState, nextLinkState } from './link-state.js';

const failed = (delayMs = 100) => ({ type: 'failed' as const, why: 'refused', now: 1_000, delayMs });

describe('nextLinkState', () => {
  it('connects, opens, and on a drop backs off then reconnects', () => {
    let s: LinkState = { tag: 'idle' };
    s = nextLinkState(s, { type: 'start' });
    expect(s).toEqual({ tag: 'connecting', attempt: 0 });
    s = nextLinkState(s, { type: 'opened', now: 5 });
    expect(s).toEqual({ tag: 'open', since: 5 });
    s = nextLinkState(s, failed(250));
    expect(s).toEqual({ tag: 'backoff', attempt: 1, retryAt: 1_250, why: 'refused' });
    expect(nextLinkState(s, { type: 'retry' })).toEqual({ tag: 'connecting', attempt: 1 });
  });

  it('backs off further while connecting keeps failing', () => {
    const s = nextLinkState({ tag: 'connecting', attempt: 3 }, failed());
    expect(s).toMatchObject({ tag: 'backoff', attempt: 4 });
  });

  it('ignores events that do not apply to the state (a late socket callback)', () => {
    const open: LinkState = { tag: 'open', since: 1 };
    expect(nextLinkState(open, { type: 'retry' })).toBe(open);
    expect(nextLinkState(open, { type: 'start' })).toBe(open);
    const backoff = nextLinkState(open, failed());
    expect(nextLinkState(backoff, failed())).toBe(backoff);
    expect(nextLinkState(backoff, { type: 'opened', now: 2 })).toBe(backoff);
  });

  it('stays stopped whatever comes after stop', () => {
    const stopped = nextLinkState({ tag: 'open', since: 1 }, { type: 'stop' });
    expect(stopped).toEqual({ tag: 'stopped' });
    for (const e of [{ type: 'start' }, { type: 'retry' }, { type: 'opened', now: 1 }, failed()] as const) {
      expect(nextLinkState(stopped, e)).toBe(stopped);
    }
  });
});
