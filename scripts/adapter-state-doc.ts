/** Rewrites adapter/STATE-MACHINE.md from the service's machine specs (`npm run adapter:state-doc`). */
import { writeFileSync } from 'node:fs';
import { ADAPTER_STATE_MACHINE_DOC, adapterStateMachineDoc } from '../adapter/state-machine-doc.js';

writeFileSync(ADAPTER_STATE_MACHINE_DOC, adapterStateMachineDoc());
console.log(`wrote ${ADAPTER_STATE_MACHINE_DOC.pathname}`);
