/**
 * Transaction timestamps: wall-clock microseconds since the Unix epoch, strictly increasing within a
 * database even when the clock stalls or steps back, so every transaction has its own instant.
 */
export type TxClock = () => bigint;

export function createTxClock(wallMicros: () => bigint = wallClockMicros): TxClock {
  let last = 0n;
  return () => {
    const t = wallMicros();
    last = t > last ? t : last + 1n;
    return last;
  };
}

function wallClockMicros(): bigint {
  return BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
}
