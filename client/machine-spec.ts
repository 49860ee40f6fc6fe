/** The spec-table format lives in shared/ (the adapter's machines use it too); kept here for client imports. */
export { type MachineSpec, type Outcome, renderSpec } from '../shared/machine-spec.js';
