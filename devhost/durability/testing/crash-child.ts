/**
 * Child process for the kill -9 test. Opens the directory, continues the workload from the recovered
 * offset, and reports on stdout (synchronous writes, so a line is out before the next step):
 *   R <offset>   recovered at open
 *   A <offset>   about to append
 *   D <offset>   durable (waitDurable resolved)
 * Runs until killed. argv: dir, fsync ('always' | interval ms), segmentBytes, snapshotEveryTxs.
 */
import { writeSync } from 'node:fs';
import { openDurability } from '../index.js';
import type { FsyncPolicy } from '../types.js';
import { SetModel, workloadTx } from './crash-model.js';

const [dir, fsyncArg, segmentArg, snapshotArg] = process.argv.slice(2);
if (!dir || !fsyncArg || !segmentArg || !snapshotArg)
  throw new Error('usage: crash-child dir fsync segmentBytes snapshotEvery');
const fsync: FsyncPolicy = fsyncArg === 'always' ? 'always' : { intervalMs: Number(fsyncArg) };
/** stdout is a non-blocking pipe: when the parent is slow to read, a write fails with EAGAIN; retry it. */
const say = (line: string): void => {
  const bytes = Buffer.from(`${line}\n`);
  for (let done = 0; done < bytes.length; ) {
    try {
      done += writeSync(1, bytes, done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
};
const die = (e: unknown): never => {
  writeSync(2, `child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(3);
};

const durability = openDurability(dir, {
  fsync,
  segmentBytes: Number(segmentArg),
  snapshotEveryTxs: Number(snapshotArg),
  schemaHash: 'crash-workload',
  onWarning: (m) => writeSync(2, `warning: ${m}\n`),
});
const model = new SetModel().advanceTo(durability.recovered.offset);
say(`R ${durability.recovered.offset}`);

let next = durability.recovered.offset + 1n;
let inFlight = 0;
for (;;) {
  const burst = 1 + Math.floor(Math.random() * 8);
  for (let k = 0; k < burst; k++) {
    const offset = next++;
    const tx = workloadTx(offset);
    say(`A ${offset}`);
    durability.append(tx);
    model.apply(tx);
    inFlight++;
    durability.waitDurable(offset).then(() => {
      inFlight--;
      say(`D ${offset}`);
    }, die);
  }
  if (durability.shouldSnapshot()) durability.snapshot(model.image()).catch(die);
  await new Promise((resolve) => setImmediate(resolve));
  if (inFlight > 64) await durability.waitDurable(next - 1n).catch(die);
}
