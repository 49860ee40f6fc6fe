export { type CompiledQuery, compileQuery, compileVisibility, type SqlAuth } from './compile.js';
export { SqlError, type SqlErrorKind } from './sql-error.js';
