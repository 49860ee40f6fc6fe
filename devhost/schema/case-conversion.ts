/**
 * `convert_case 0.6` `to_case(Case::Snake)`, which SpacetimeDB applies to source names under the
 * default `CaseConversionPolicy::SnakeCase` (host spec §1.6, `crates/schema/src/def/validate/v9.rs::convert`).
 * Default boundaries: `_`, `-` and space (removed), lower→upper, digit↔letter in both directions, and the
 * acronym boundary `AAa` (split before the last upper). Not the TS lib's `toSnakeCase` (different rules).
 */

const isUpper = (c: string): boolean => c !== c.toLowerCase() && c === c.toUpperCase();
const isLower = (c: string): boolean => c !== c.toUpperCase() && c === c.toLowerCase();
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Splits one delimiter-free word at the case/digit boundaries. */
function splitWord(word: string): string[] {
  const chars = [...word];
  const words: string[] = [];
  let start = 0;
  for (let i = 1; i < chars.length; i++) {
    const a = chars[i - 1] as string;
    const b = chars[i] as string;
    const c = chars[i + 1];
    const boundary =
      (isLower(a) && isUpper(b)) ||
      (isDigit(a) && (isUpper(b) || isLower(b))) ||
      ((isUpper(a) || isLower(a)) && isDigit(b)) ||
      (isUpper(a) && isUpper(b) && c !== undefined && isLower(c));
    if (boundary) {
      words.push(chars.slice(start, i).join(''));
      start = i;
    }
  }
  words.push(chars.slice(start).join(''));
  return words;
}

/** Words of `name` by convert_case's default boundaries. */
export function splitWords(name: string): string[] {
  return name
    .split(/[_\- ]/)
    .filter((w) => w.length > 0)
    .flatMap(splitWord);
}

export function toSnakeCase(name: string): string {
  return splitWords(name)
    .map((w) => w.toLowerCase())
    .join('_');
}
