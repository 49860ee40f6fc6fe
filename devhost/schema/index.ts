export { splitWords, toSnakeCase } from './case-conversion.js';
export { FIRST_USER_ID } from './ids.js';
export { decodeModuleDef, type ModuleDefV10 } from './module-def.js';
export { buildModuleSchema, type HostModuleSchema, resolveType } from './module-schema.js';
