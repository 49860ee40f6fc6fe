/**
 * A commit log damaged in the middle (security audit finding 3), end to end through the CLI: devhost
 * refuses to start and names the offset; `--truncate-corrupt` starts, says what it cut, and moves
 * every stream of the sync module to a new epoch, so clients rebootstrap instead of resuming past a
 * head that went backwards and missing the seqs handed out again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, SYNC_DB, SYNC_MODULE, subscribe } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly url?: string;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `devhost --data`; resolves when it listens or has exited, whichever comes first. */
function devhostProcess(dataDir: string, extra: string[] = []): Promise<Run> {
  const child = spawn(
    process.execPath,
    [BIN, 'devhost', '--module', SYNC_MODULE, '--name', SYNC_DB, '--data', dataDir, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  // 'close', not 'exit': the last output can still be in the pipe when 'exit' fires.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /devhost listening on ws:\/\/([\d.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: `http://${m[1]}`, exited, output: () => out });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => resolve({ child, exited, output: () => out }));
  });
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
}

describe('devhost --data with a commit log damaged in the middle', () => {
  it('refuses to start naming the offset; --truncate-corrupt cuts there, logs it and bumps every epoch', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'devhost-cut-'));
    dirs.push(dataDir);
    const first = await devhostProcess(dataDir);
    const token = (await readFile(join(dataDir, 'owner-token'), 'utf8')).trim();
    const writer = await connect({ url: first.url as string }, token);
    for (let i = 1; i <= 12; i++) {
      for (const stream of ['cut:a', 'cut:b']) {
        const e = eventInput(stream, `k${i}`, {
          body: `${stream}/${i}/${'x'.repeat(4096)}`,
          sourceSeq: BigInt(i),
        });
        await writer.conn.reducers.appendSyncEvent({ event: e });
      }
    }
    writer.conn.disconnect();
    await stop(first);

    const clog = join(dataDir, 'db', SYNC_DB, 'clog');
    const [segmentName] = (await readdir(clog)).filter((n) => n.endsWith('.log'));
    const segment = join(clog, segmentName as string);
    const bytes = await readFile(segment);
    const at = Math.floor((await stat(segment)).size / 2);
    bytes[at] = (bytes[at] as number) ^ 0x20;
    await writeFile(segment, bytes);

    const refused = await devhostProcess(dataDir);
    expect(await refused.exited).not.toBe(0);
    expect(refused.url).toBeUndefined();
    expect(refused.output()).toMatch(
      /the record at byte \d+ \(log offset \d+\) is damaged .* not a torn tail.*--truncate-corrupt/s,
    );
    expect((await readFile(segment)).equals(bytes)).toBe(true); // nothing cut without the operator

    const cut = await devhostProcess(dataDir, ['--truncate-corrupt']);
    expect(cut.url, cut.output()).toBeDefined();
    expect(cut.output()).toMatch(
      /history cut: committed offsets (\d+)\.\.(\d+) are gone \(damage at byte \d+/,
    );
    expect(cut.output()).toMatch(/told the module \(note_history_cut\)/);
    const owner = await connect({ url: cut.url as string }, token);
    await subscribe(owner.conn, ['SELECT * FROM sync_stream']);
    const streams = [...owner.conn.db.syncStream.iter()];
    expect(streams.map((s) => s.streamId).sort()).toEqual(['cut:a', 'cut:b']);
    for (const s of streams) {
      expect(s.epoch).toBe(2n);
      expect(s.headSeq).toBeLessThan(12n); // the cut took events away: a client at 12 must rebootstrap
    }
    owner.conn.disconnect();
    await stop(cut);
  }, 120_000);
});
