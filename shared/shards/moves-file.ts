/**
 * The move table on disk (`SPACETIMEDB_SHARD_MOVES_FILE`): the streams a reshard moved, read by the
 * service at start and by the CLI and clients, so all of them route a moved stream to its new shard.
 * JSON, seqs as strings (exact past 2^53): `{ "moves": [{ "stream", "from", "to", "atSeq" }] }`.
 * `spacetime-sync shard move` appends to it (written atomically, the old file replaced whole).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ShardMove } from './route.js';

interface MoveJson {
  readonly stream: string;
  readonly from: string;
  readonly to: string;
  readonly atSeq: string;
}

/** The moves in `path`; none when the file does not exist yet. Throws with the reason when unreadable. */
export function readMovesFile(path: string): ShardMove[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let parsed: { moves?: unknown };
  try {
    parsed = JSON.parse(text) as { moves?: unknown };
  } catch (e) {
    throw new Error(`${path} is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed.moves)) throw new Error(`${path} has no "moves" list`);
  return parsed.moves.map((m: Partial<MoveJson>, i) => {
    if (
      typeof m.stream !== 'string' ||
      typeof m.from !== 'string' ||
      typeof m.to !== 'string' ||
      typeof m.atSeq !== 'string' ||
      !/^\d+$/.test(m.atSeq)
    ) {
      throw new Error(
        `${path}: moves[${i}] needs stream, from, to (strings) and atSeq (a whole number as a string)`,
      );
    }
    return { stream: m.stream, from: m.from, to: m.to, atSeq: BigInt(m.atSeq) };
  });
}

/** Adds `move` to the file (a later move of the same stream is kept after the earlier one). */
export function appendMove(path: string, move: ShardMove): void {
  const moves = [...readMovesFile(path), move].map((m) => ({ ...m, atSeq: m.atSeq.toString() }));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ moves }, null, 2)}\n`);
  renameSync(tmp, path);
}
