/** Rewrites client/STATE-MACHINE.md from the client's machine specs (`npm run client:state-doc`). */
import { writeFileSync } from 'node:fs';
import { STATE_MACHINE_DOC, stateMachineDoc } from '../client/state-machine-doc.js';

writeFileSync(STATE_MACHINE_DOC, stateMachineDoc());
console.log(`wrote ${STATE_MACHINE_DOC.pathname}`);
