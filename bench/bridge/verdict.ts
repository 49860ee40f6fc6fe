/**
 * The answer the bridge issue asks for: with the relay down, are sync's figures within the
 * run-to-run spread of the same figures with it up? For each figure, "within spread" when the
 * relay-down median lies inside the relay-up rounds' range (and the ranges therefore overlap).
 */

export interface LoadFigures {
  readonly appendRate: number;
  readonly p50: number;
  readonly p99: number;
  readonly deliveredShare: number;
  readonly appendFailed: number;
  readonly windows: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const FIGURES: readonly { name: string; of: (f: LoadFigures) => number; fmt: (x: number) => string }[] = [
  { name: 'sync appends/s', of: (f) => f.appendRate, fmt: (x) => x.toFixed(0) },
  { name: 'end-to-end p50 ms', of: (f) => f.p50, fmt: (x) => x.toFixed(1) },
  { name: 'end-to-end p99 ms', of: (f) => f.p99, fmt: (x) => x.toFixed(1) },
  { name: 'delivered share %', of: (f) => 100 * f.deliveredShare, fmt: (x) => x.toFixed(2) },
];

/** Whether `down`'s median is within `up`'s range. */
export function withinSpread(up: readonly number[], down: readonly number[]): boolean {
  if (up.length === 0 || down.length === 0) return false;
  const m = median(down);
  return m >= Math.min(...up) && m <= Math.max(...up);
}

export function verdictLines(up: readonly LoadFigures[], down: readonly LoadFigures[]): string[] {
  if (up.length === 0 || down.length === 0)
    return ['fixed-load verdict: n/a (both relay up and down must run)'];
  const lines = [`fixed-load verdict, relay down against relay up over ${up.length}/${down.length} rounds:`];
  for (const f of FIGURES) {
    const u = up.map(f.of);
    const d = down.map(f.of);
    const range = (xs: number[]) =>
      `${f.fmt(median(xs))} (${f.fmt(Math.min(...xs))}–${f.fmt(Math.max(...xs))})`;
    lines.push(
      `  ${f.name}: up ${range(u)}, down ${range(d)} — ${withinSpread(u, d) ? 'within spread' : 'not within spread'}`,
    );
  }
  return lines;
}
