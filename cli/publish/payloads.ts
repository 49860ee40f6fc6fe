/**
 * Where `publish` takes payloads from: one `--json` value (checked to be JSON), one `--file` (its
 * bytes as they are), or standard input, one payload per non-empty line. Lines that arrive together
 * are handed on together (up to the ingest API's 500 per call), so a piped file goes in few calls
 * while lines typed by hand are sent as they are entered.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { UsageError } from '../exit-codes.js';

export const MAX_BATCH = 500;

export interface PayloadSource {
  readonly json?: string;
  readonly file?: string;
}

const encoder = new TextEncoder();

export async function* payloadBatches(
  source: PayloadSource,
  stdin: NodeJS.ReadableStream = process.stdin,
): AsyncGenerator<Uint8Array[]> {
  if (source.json !== undefined && source.file !== undefined)
    throw new UsageError('give the payload with --json or --file, not both');
  if (source.json !== undefined) {
    try {
      JSON.parse(source.json);
    } catch (e) {
      throw new UsageError(`--json is not JSON: ${(e as Error).message}`);
    }
    yield [encoder.encode(source.json)];
    return;
  }
  if (source.file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(source.file);
    } catch (e) {
      throw new UsageError(`cannot read --file ${source.file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    yield [new Uint8Array(bytes)];
    return;
  }
  if ((stdin as { isTTY?: boolean }).isTTY)
    process.stderr.write('publish: one payload per line; end with Ctrl-D\n');
  yield* lineBatches(stdin);
}

/** Non-empty lines, grouped by what arrived before the reader next waited for input. */
async function* lineBatches(input: NodeJS.ReadableStream): AsyncGenerator<Uint8Array[]> {
  const pending: Uint8Array[] = [];
  let ended = false;
  let paused = false;
  let wake: (() => void) | undefined;
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    pending.push(encoder.encode(line));
    // Keep memory bounded while a slow call is in flight.
    if (pending.length >= MAX_BATCH * 4 && !paused) {
      paused = true;
      rl.pause();
    }
    wake?.();
  });
  rl.once('close', () => {
    ended = true;
    wake?.();
  });
  while (true) {
    if (pending.length === 0) {
      if (ended) return;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = undefined;
      // Let the rest of the chunk that woke us arrive as lines too.
      await new Promise((r) => setImmediate(r));
      continue;
    }
    yield pending.splice(0, MAX_BATCH);
    // Node 26 refuses resume() on a closed interface.
    if (paused && !ended && pending.length < MAX_BATCH) {
      paused = false;
      rl.resume();
    }
  }
}
