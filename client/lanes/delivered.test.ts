import { describe, expect, it } from 'vitest';
import { DeliveredMarks } from './delivered.js';

describe('delivered marks', () => {
  it('admits each authority seq of a stream once, whichever lane replays it again', () => {
    const m = new DeliveredMarks();
    const legacy = [1n, 2n, 3n].map((s) => m.admit('run:1', s));
    // After a switch the new lane replays from the start of retained history.
    const spacetime = [1n, 2n, 3n, 4n, 6n].map((s) => m.admit('run:1', s));
    expect(legacy).toEqual([true, true, true]);
    expect(spacetime).toEqual([false, false, false, true, true]);
    expect(m.mark('run:1')).toBe(6n);
    expect(m.admit('run:2', 1n)).toBe(true);
  });
});
