/**
 * The case conversions SpacetimeDB's TypeScript codegen applies (Rust `convert_case` 0.6 with its
 * default word boundaries, the same splitter the host uses for canonical names): camelCase for table
 * handles, row fields and reducer arguments, PascalCase for type names, snake_case for file names.
 * Not the SDK's own `toCamelCase` (which splits only on `_`/`-`), so e.g. `Player1Id` → `player1Id`.
 */
import { splitWords } from '../schema/index.js';

const capitalize = (w: string): string => (w[0] ?? '').toUpperCase() + w.slice(1).toLowerCase();

export function camelCase(name: string): string {
  return splitWords(name)
    .map((w, i) => (i === 0 ? w.toLowerCase() : capitalize(w)))
    .join('');
}

export function pascalCase(name: string): string {
  return splitWords(name).map(capitalize).join('');
}

export function snakeCase(name: string): string {
  return splitWords(name)
    .map((w) => w.toLowerCase())
    .join('_');
}

/** A property key as written in an object literal: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}
