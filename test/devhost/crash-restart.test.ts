/**
 * devhost as a process: `spacetime-sync devhost --data DIR`, SIGKILLed in the middle of a write load,
 * restarted on the same directory. Every write the SDK saw confirmed must be there, nothing that was
 * never sent, and per-stream seqs stay gapless. Then SIGTERM must exit cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

function startDevhostProcess(dataDir: string, port = 0): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [BIN, 'devhost', '--module', SYNC_MODULE, '--name', SYNC_DB, '--data', dataDir, '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /devhost listening on ws:\/\/([\d.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: `http://${m[1]}` });
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`devhost exited with ${code} before listening:\n${out}`)));
  });
}

function event(stream: string, key: string) {
  return eventInput(stream, key, { kind: 'crash.v1', body: key, sourceTopic: 'crash' });
}

describe('devhost --data across kill -9', () => {
  it('keeps every confirmed write and nothing else, three rounds; exits 0 on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'devhost-crash-'));
    dirs.push(dataDir);
    const sent = new Set<string>();
    const confirmed = new Set<string>();
    let port = 0;
    for (let round = 0; round < 3; round++) {
      const { child, url } = await startDevhostProcess(dataDir, port);
      port = Number(new URL(url).port);
      const token = (await readFile(join(dataDir, 'owner-token'), 'utf8')).trim();
      const writer = await connect({ url }, token);
      const send = (i: number) => {
        const key = `r${round}-${i}`;
        sent.add(key);
        return writer.conn.reducers.appendSyncEvent({ event: event(`crash-${i % 3}`, key) }).then(
          () => void confirmed.add(key),
          () => {},
        );
      };
      // Some writes confirmed one by one, then a burst in flight when the process is killed.
      for (let i = 0; i < 15; i++) await send(i);
      const inflight: Promise<void>[] = [];
      for (let i = 15; i < 60; i++) {
        inflight.push(send(i));
        if (i === 30) setTimeout(() => child.kill('SIGKILL'), 5);
      }
      await new Promise<void>((r) => child.once('exit', () => r()));
      writer.conn.disconnect();
      await Promise.race([Promise.allSettled(inflight), new Promise((r) => setTimeout(r, 1000))]);
    }
    const { child, url } = await startDevhostProcess(dataDir, port);
    const token = (await readFile(join(dataDir, 'owner-token'), 'utf8')).trim();
    const reader = await connect({ url }, token);
    await subscribe(reader.conn, ['SELECT * FROM sync_event']);
    const rows = [...reader.conn.db.syncEvent.iter()];
    const present = new Set(rows.map((r) => r.idempotencyKey));
    expect(confirmed.size).toBeGreaterThan(0);
    for (const key of confirmed) expect(present.has(key), `confirmed ${key} lost`).toBe(true);
    for (const key of present) expect(sent.has(key), `${key} was never sent`).toBe(true);
    for (const s of ['crash-0', 'crash-1', 'crash-2']) {
      const seqs = rows
        .filter((r) => r.streamId === s)
        .map((r) => Number(r.seq))
        .sort((a, b) => a - b);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    reader.conn.disconnect();
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 90_000);
});
