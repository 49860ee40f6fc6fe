import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADAPTER_STATE_MACHINE_DOC, adapterStateMachineDoc } from './state-machine-doc.js';

describe('adapter/STATE-MACHINE.md', () => {
  it('is exactly what the machines’ spec tables render (run `npm run adapter:state-doc` after changing them)', () => {
    expect(readFileSync(ADAPTER_STATE_MACHINE_DOC, 'utf8')).toBe(adapterStateMachineDoc());
  });
});
