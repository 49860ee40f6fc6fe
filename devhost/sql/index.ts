export {
  type CompiledQuery,
  compileQuery,
  compileVisibility,
  type SqlAuth,
  type Visibility,
  type VisibilityChange,
} from './compile.js';
export type { Semijoin } from './compile-join.js';
export { SqlError, type SqlErrorKind } from './sql-error.js';
export { queryTermCount } from './terms.js';
