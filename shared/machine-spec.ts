/**
 * A state machine's specification as data: its states, the events it distinguishes, and for each
 * event × state the state it moves to. The machines' tests check their transition function against
 * these tables cell by cell, and STATE-MACHINE.md is rendered from them (a test keeps it current).
 */

/** `·`: the event is refused or ignored in that state — the same state object comes back, with no effects. */
export type Outcome<K extends string> = K | '·';

export interface MachineSpec<K extends string, C extends string> {
  readonly title: string;
  readonly intro: string;
  readonly states: Readonly<Record<K, string>>;
  /** Event cases; one event type may split into cases by a guard (e.g. a fresh or a stale row). */
  readonly events: Readonly<Record<C, string>>;
  readonly table: Readonly<Record<C, Readonly<Record<K, Outcome<K>>>>>;
}

export function renderSpec<K extends string, C extends string>(spec: MachineSpec<K, C>): string {
  const kinds = Object.keys(spec.states) as K[];
  const cases = Object.keys(spec.events) as C[];
  const states = [
    '| state | meaning |',
    '|---|---|',
    ...kinds.map((k) => `| \`${k}\` | ${spec.states[k]} |`),
  ];
  const events = [
    '| event | meaning |',
    '|---|---|',
    ...cases.map((c) => `| \`${c}\` | ${spec.events[c]} |`),
  ];
  const table = [
    `| event \\ state | ${kinds.map((k) => `\`${k}\``).join(' | ')} |`,
    `|---|${kinds.map(() => '---').join('|')}|`,
    ...cases.map((c) => `| \`${c}\` | ${kinds.map((k) => spec.table[c][k]).join(' | ')} |`),
  ];
  return [
    `## ${spec.title}`,
    '',
    spec.intro,
    '',
    ...states,
    '',
    ...events,
    '',
    'Transitions (→ next state; `·` = refused or ignored: same state, no effects):',
    '',
    ...table,
    '',
  ].join('\n');
}

/**
 * One event's row of a table: the listed cells, `·` in every other state of `kinds` (the keys of
 * the spec's `states`, in order).
 */
export function specRow<K extends string>(
  kinds: readonly K[],
  cells: Partial<Record<K, K>>,
): Record<K, Outcome<K>> {
  return Object.fromEntries(kinds.map((k) => [k, cells[k] ?? '·'])) as Record<K, Outcome<K>>;
}

/**
 * Every cell of a spec's table as `[event case, state, expected outcome]`, in table order: what the
 * machines' tests feed to `it.each`, so each refused transition is a test of its own.
 */
export function specCells<K extends string, C extends string>(
  spec: MachineSpec<K, C>,
): (readonly [C, K, Outcome<K>])[] {
  const kinds = Object.keys(spec.states) as K[];
  return (Object.keys(spec.table) as C[]).flatMap((c) => kinds.map((k) => [c, k, spec.table[c][k]] as const));
}
