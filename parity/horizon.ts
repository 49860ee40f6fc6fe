/**
 * The horizon of a comparison: clients that resumed mid-history skipped different prefixes in each
 * lane, so events before the later of the two lanes' first delivered version are not compared.
 */
import type { Seen } from './seen.js';

/** Per (topic, stream), drops events older than the later of the two lanes' first delivered version. */
export function cutBeforeHorizon(...lanes: Map<string, Seen<unknown>>[]): number {
  const group = (s: Seen<unknown>) => JSON.stringify([s.id.topic, s.stream]);
  const firsts = lanes.map((lane) => {
    const mins = new Map<string, bigint>();
    for (const s of lane.values()) {
      const cur = mins.get(group(s));
      if (cur === undefined || s.id.version < cur) mins.set(group(s), s.id.version);
    }
    return mins;
  });
  let cut = 0;
  for (const lane of lanes) {
    for (const [k, s] of lane) {
      const starts = firsts.map((m) => m.get(group(s)));
      if (starts.some((v) => v === undefined)) continue; // only one lane has the group: nothing to align
      const horizon = (starts as bigint[]).sort((a, b) => (a < b ? 1 : -1))[0] as bigint; // the later start
      if (s.id.version < horizon) {
        lane.delete(k);
        cut++;
      }
    }
  }
  return cut;
}
