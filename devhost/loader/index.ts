export { type BuiltBundle, type BundleOptions, bundleModule, bundleModuleWithInputs } from './bundle.js';
export { evaluateBundle, type LoadedModule, loadModule, type SysV20, type SysV21 } from './load-module.js';
export type { ModuleHooks } from './module-hooks.js';
export { type PrebuiltBundle, readPrebuiltBundle, writePrebuiltBundle } from './prebuilt.js';
export { SYS_V2_0_EXPORTS, SYS_V2_1_EXPORTS } from './sys-exports.js';
