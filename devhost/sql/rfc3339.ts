/**
 * Timestamp literals: SpacetimeDB parses them with chrono's `DateTime::parse_from_rfc3339`
 * (`Timestamp::parse_from_rfc3339`), which is stricter than `Date.parse` — a full date, `T`/`t`/space,
 * `HH:MM:SS`, optional fraction (digits past nanoseconds ignored) and a mandatory `Z`/`z` or `±HH:MM`
 * offset — and allows a leap second (`:60`, counted as one more second).
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+\-\u2212])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Microseconds since the Unix epoch, or undefined when `text` is not an RFC 3339 date-time. */
export function parseRfc3339Micros(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return undefined;
  const monthDays = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > monthDays) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetSeconds = 0;
  if (m[9] !== undefined) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetSeconds = (offHours * 3600 + offMinutes * 60) * (m[9] === '+' ? 1 : -1);
  }
  const nanos = BigInt(((m[7] ?? '') + '000000000').slice(0, 9));
  const seconds =
    BigInt(daysFromCivil(year, month, day)) * 86_400n +
    BigInt(hour * 3600 + minute * 60 + second - offsetSeconds);
  // chrono's `timestamp_micros`: whole seconds (floored) times a million plus the truncated fraction.
  return seconds * 1_000_000n + nanos / 1000n;
}
