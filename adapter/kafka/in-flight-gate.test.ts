import { describe, expect, it } from 'vitest';
import { InFlightGate } from './in-flight-gate.js';

describe('InFlightGate', () => {
  it('pauses once past the high mark and resumes only after draining to the low mark', () => {
    const changes: [boolean, number][] = [];
    const gate = new InFlightGate(100, 40, (paused, n) => changes.push([paused, n]));
    gate.add(60);
    gate.add(40);
    expect(gate.paused).toBe(false); // at the bound, not past it
    gate.add(1);
    expect(changes).toEqual([[true, 101]]);
    gate.add(200); // already paused: no second notice
    gate.done(250);
    expect(gate.paused).toBe(true); // 51 left, above the low mark
    gate.done(11);
    expect(changes).toEqual([
      [true, 101],
      [false, 40],
    ]);
    expect(gate.inFlight).toBe(40);
  });

  it('never counts below zero, so a double release cannot hide later work', () => {
    const gate = new InFlightGate(10, 5, () => {});
    gate.done(3);
    gate.add(11);
    expect(gate.inFlight).toBe(11);
    expect(gate.paused).toBe(true);
  });

  it('refuses marks that would never resume', () => {
    expect(() => new InFlightGate(10, 10, () => {})).toThrow(RangeError);
    expect(() => new InFlightGate(10, -1, () => {})).toThrow(RangeError);
  });
});
