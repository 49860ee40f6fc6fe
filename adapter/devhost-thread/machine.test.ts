import { describe, expect, it } from 'vitest';
import { specCells } from '../../shared/machine-spec.js';
import {
  type DevhostThreadEvent,
  type DevhostThreadKind,
  type DevhostThreadState,
  transitionDevhostThread,
} from './machine.js';
import { DEVHOST_THREAD_SPEC, type DevhostThreadCase } from './spec.js';

const devhost = { url: 'http://127.0.0.1:3000', port: 3000, ownerToken: 't', ownerIdentity: 7n };

/** One representative state per kind; `stopping` has not flushed unless the case says it has. */
function sample(k: DevhostThreadKind, c: DevhostThreadCase): DevhostThreadState {
  switch (k) {
    case 'starting':
      return { kind: 'starting' };
    case 'ready':
      return { kind: 'ready', devhost };
    case 'stopping':
      return { kind: 'stopping', flushed: c === 'flushed (again)' || c === 'died (after flushed)' };
    case 'stopped':
      return { kind: 'stopped' };
    case 'failed':
      return { kind: 'failed', why: 'exited with code 1', wasReady: true };
  }
}

const EVENT: Record<DevhostThreadCase, DevhostThreadEvent> = {
  ready: { type: 'ready', devhost },
  stop: { type: 'stop' },
  flushed: { type: 'flushed' },
  'flushed (again)': { type: 'flushed' },
  died: { type: 'died', why: 'exited with code 1' },
  'died (after flushed)': { type: 'died', why: 'exited with code 1' },
};

describe('devhost thread machine', () => {
  it.each(specCells(DEVHOST_THREAD_SPEC))('%s in %s → %s', (c, k, expected) => {
    const next = transitionDevhostThread(sample(k, c), EVENT[c]);
    if (expected === '·') expect(next).toBeUndefined();
    else expect(next?.kind).toBe(expected);
  });

  it('a thread that dies while serving is the service failing, not a stop; while starting, the start failing', () => {
    expect(transitionDevhostThread({ kind: 'ready', devhost }, EVENT.died)).toEqual({
      kind: 'failed',
      why: 'exited with code 1',
      wasReady: true,
    });
    expect(transitionDevhostThread({ kind: 'starting' }, EVENT.died)).toMatchObject({ wasReady: false });
  });

  it('a stop is graceful only when the thread flushed before it ended', () => {
    const stopping = transitionDevhostThread({ kind: 'ready', devhost }, EVENT.stop);
    expect(stopping).toEqual({ kind: 'stopping', flushed: false });
    const cut = transitionDevhostThread(stopping as DevhostThreadState, EVENT.died);
    expect(cut).toMatchObject({
      kind: 'failed',
      why: expect.stringMatching(/before its commit logs were flushed/),
    });
    const flushed = transitionDevhostThread(stopping as DevhostThreadState, EVENT.flushed);
    expect(transitionDevhostThread(flushed as DevhostThreadState, EVENT.died)).toEqual({ kind: 'stopped' });
  });
});
