/** Which of a lane's deliveries are in the other lane's order: the rest are order divergences. */

/** Indexes (into xs) of one longest strictly increasing subsequence; O(n log n). */
export function longestIncreasing(xs: readonly number[]): Set<number> {
  const tails: number[] = []; // index into xs of the smallest tail of an increasing run of length k+1
  const prev = new Array<number>(xs.length).fill(-1);
  xs.forEach((x, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((xs[tails[mid] as number] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const keep = new Set<number>();
  for (let i = tails.length ? (tails[tails.length - 1] as number) : -1; i !== -1; i = prev[i] as number)
    keep.add(i);
  return keep;
}
