/**
 * The convention by which devhost tells a module its history was cut (`truncateCorrupt`): when the
 * module has a reducer named `note_history_cut` (no arguments), it is called as the owner before any
 * client connects. The sync module moves every stream to a new epoch there. A module without it is
 * only logged about; a refusal stops the start, since clients would resume past the cut.
 */
import type { HistoryCutReport } from './durability/index.js';
import type { DevhostDatabase } from './host/index.js';

export const HISTORY_CUT_REDUCER = 'note_history_cut';

export async function callHistoryCutReducer(db: DevhostDatabase, _cut: HistoryCutReport): Promise<boolean> {
  if (!db.schema.reducerByName(HISTORY_CUT_REDUCER)) return false;
  const outcome = await db.callReducer(HISTORY_CUT_REDUCER, new Uint8Array(0), {
    identity: db.owner,
    connectionId: 0n,
  });
  if (outcome.kind !== 'committed')
    throw new Error(`${db.name}: ${HISTORY_CUT_REDUCER} failed after the history cut: ${outcome.message}`);
  return true;
}
