import { describe, expect, it } from 'vitest';
import { specCells } from '../shared/machine-spec.js';
import {
  readiness,
  type ServiceEvent,
  type ServiceKind,
  type ServiceState,
  transitionService,
} from './service-machine.js';
import { SERVICE_SPEC, type ServiceCase } from './service-spec.js';

const SAMPLE: Record<ServiceKind, ServiceState> = {
  starting: { kind: 'starting' },
  running: { kind: 'running' },
  stopping: { kind: 'stopping', duringStart: false },
  stopped: { kind: 'stopped' },
};

const EVENT: Record<ServiceCase, ServiceEvent> = {
  started: { type: 'started' },
  stop: { type: 'stop' },
  stopped: { type: 'stopped' },
};

describe('service machine', () => {
  const cells = specCells(SERVICE_SPEC);

  it.each(cells)('%s in %s → %s', (c, k, expected) => {
    const next = transitionService(SAMPLE[k], EVENT[c]);
    if (expected === '·') expect(next).toBeUndefined();
    else expect(next?.kind).toBe(expected);
  });

  it('a stop while starting is remembered as such: the start then ends with StartAborted', () => {
    expect(transitionService(SAMPLE.starting, EVENT.stop)).toEqual({ kind: 'stopping', duringStart: true });
    expect(transitionService(SAMPLE.running, EVENT.stop)).toEqual({ kind: 'stopping', duringStart: false });
    // A start that finishes after the stop cannot make the service running again.
    expect(transitionService({ kind: 'stopping', duringStart: true }, EVENT.started)).toBeUndefined();
  });

  it('is ready only while running, with SpacetimeDB connected and the consumer (if any) running', () => {
    const up = { spacetimeConnected: true, kafka: { ready: true, state: 'consuming' } };
    expect(readiness(SAMPLE.running, up)).toEqual({ ok: true });
    expect(readiness(SAMPLE.running, { spacetimeConnected: true })).toEqual({ ok: true });
    expect(readiness(SAMPLE.starting, up)).toEqual({ ok: false, why: 'service starting' });
    // Started during a SpacetimeDB outage: /readyz names what it waits for and the last failure.
    expect(readiness(SAMPLE.starting, { spacetimeConnected: false })).toEqual({
      ok: false,
      why: 'service starting: SpacetimeDB not connected',
    });
    expect(
      readiness(SAMPLE.starting, {
        spacetimeConnected: false,
        spacetimeProblem: 'connect failed: fetch failed',
      }),
    ).toEqual({
      ok: false,
      why: 'service starting: SpacetimeDB not connected (connect failed: fetch failed; retrying)',
    });
    expect(readiness(SAMPLE.stopping, up)).toEqual({ ok: false, why: 'service stopping' });
    expect(readiness(SAMPLE.running, { ...up, spacetimeConnected: false })).toEqual({
      ok: false,
      why: 'SpacetimeDB not connected',
    });
    expect(
      readiness(SAMPLE.running, { spacetimeConnected: true, kafka: { ready: false, state: 'crashed' } }),
    ).toEqual({
      ok: false,
      why: 'Kafka consumer crashed',
    });
  });
});
