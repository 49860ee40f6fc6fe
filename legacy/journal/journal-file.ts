/**
 * Loading the journal file. A damaged record stops the lane from starting rather than being cut off:
 * truncating would silently drop rows a client may already hold, or renumber watermarks. The error
 * says where the damage is and how to recover on purpose.
 */
import { readFile } from 'node:fs/promises';
import { decodeRecord, type JournalRecord } from './record-codec.js';

export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly byteOffset: number,
    readonly line: number,
    readonly why: string,
  ) {
    super(
      `legacy lane journal ${file} is damaged at byte ${byteOffset} (line ${line}): ${why}. ` +
        'The lane will not start on a damaged journal. Restore the file from a backup; or, if only the ' +
        'last line is damaged (a write interrupted before it was acknowledged — every acknowledged ' +
        `record was fsynced first), cut it off with: truncate -s ${byteOffset} ${file}`,
    );
    this.name = 'JournalCorruptError';
  }
}

/** Every record of the file in order; `[]` when it does not exist yet. */
export async function readJournalFile(
  file: string,
  onRecord: (record: JournalRecord, at: { byteOffset: number; line: number }) => string | undefined,
): Promise<void> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  let offset = 0;
  let line = 0;
  while (offset < buf.length) {
    line++;
    const nl = buf.indexOf(0x0a, offset);
    if (nl < 0)
      throw new JournalCorruptError(file, offset, line, 'the last record has no newline (torn write)');
    const decoded = decodeRecord(buf.toString('utf8', offset, nl));
    if (!decoded.ok) throw new JournalCorruptError(file, offset, line, decoded.why);
    const refusal = onRecord(decoded.record, { byteOffset: offset, line });
    if (refusal !== undefined) throw new JournalCorruptError(file, offset, line, refusal);
    offset = nl + 1;
  }
}
