export {
  type CompiledQuery,
  compileQuery,
  compileRules,
  compileVisibility,
  type SenderRules,
  type SqlAuth,
  type Visibility,
  type VisibilityChange,
} from './compile.js';
export type { Semijoin } from './compile-join.js';
export { DEFAULT_QUERY_CACHE_BYTES, QueryCache } from './query-cache.js';
export { DEFAULT_RULE_CACHE_SENDERS, RuleCache } from './rule-cache.js';
export { SqlError, type SqlErrorKind } from './sql-error.js';
export { queryTermCount } from './terms.js';
