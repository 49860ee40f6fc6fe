/** SyncClient presence heartbeats and the `tail` command built on it. */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCursorStore, MemoryCursorStore } from '../../client/cursor-store.js';
import { SyncClient } from '../../client/sync-client.js';
import { SYNC_DB } from '../support/devhost-harness.js';
import { append, hostWithWriter, readerToken, tempDir } from './testing/sync-client-fixture.js';

describe('SyncClient presence and tail', () => {
  it('heartbeats presence while open and the server clears it when the client goes away', async () => {
    const { devhost, writer } = await hostWithWriter();
    await new Promise<void>((r) =>
      writer.conn
        .subscriptionBuilder()
        .onApplied(() => r())
        .subscribe('SELECT * FROM session_presence'),
    );
    const client = await SyncClient.open(['p'], {
      uri: devhost.url,
      database: SYNC_DB,
      clientId: 'desk-p',
      store: new MemoryCursorStore(),
      onEvent: () => {},
      presence: { sessionId: 'sess-p', deviceId: 'laptop', ttlMs: 300 },
    });
    await client.waitLive();
    await expect.poll(() => writer.conn.db.sessionPresence.session_id.find('sess-p')?.state).toBe('live');
    const first =
      writer.conn.db.sessionPresence.session_id.find('sess-p')?.lastSeen.microsSinceUnixEpoch ?? 0n;
    await expect
      .poll(
        () =>
          (writer.conn.db.sessionPresence.session_id.find('sess-p')?.lastSeen.microsSinceUnixEpoch ?? 0n) >
          first,
      )
      .toBe(true);
    await client.close();
    await expect.poll(() => writer.conn.db.sessionPresence.session_id.find('sess-p')).toBeNull();
  });

  it('`spacetime-sync tail` prints events and resumes from its store after a restart', async () => {
    const { devhost, writer } = await hostWithWriter();
    const store = join(await tempDir(), 'tail.json');
    await append(writer, 'tailed', ['a', 'b']);
    const token = await readerToken(devhost, ['tailed'], 'tail');
    const bin = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;
    const tail = async (expectLines: number, savedWatermark: bigint) => {
      const child = spawn(
        process.execPath,
        [bin, 'tail', 'tailed', '--store', store, '--spacetimedb', devhost.url, '--database', SYNC_DB],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPACETIMEDB_TOKEN: token } },
      );
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await expect
        // A process starting on a loaded machine: the project's 20 s poll default, not 10 s.
        .poll(() => out.trim().split('\n').filter(Boolean).length)
        .toBe(expectLines);
      // The cursor is saved after delivery: stop only once the store holds the last printed seq.
      await expect
        .poll(async () => (await new FileCursorStore(store).load('tailed'))?.watermark)
        .toBe(savedWatermark);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return out.trim().split('\n');
    };
    expect(await tail(2, 2n)).toEqual(['tailed\t1\ttest.v1\ttailed:a', 'tailed\t2\ttest.v1\ttailed:b']);
    await append(writer, 'tailed', ['c']);
    expect(await tail(1, 3n)).toEqual(['tailed\t3\ttest.v1\ttailed:c']);
  });
});
