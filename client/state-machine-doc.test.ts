import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STATE_MACHINE_DOC, stateMachineDoc } from './state-machine-doc.js';

describe('STATE-MACHINE.md', () => {
  it('is exactly what the machines’ spec tables render (run `npm run client:state-doc` after changing them)', () => {
    expect(readFileSync(STATE_MACHINE_DOC, 'utf8')).toBe(stateMachineDoc());
  });
});
