/**
 * The parity candidate client reports each rebootstrap as it happens, with the reason and its
 * numbers (a chaos run logs it between rounds: issue 17's long run could not tell why its parity
 * client rebootstrapped a stream no one truncated). Real devhost; the epoch moved by a real reset.
 */
import { describe, expect, it } from 'vitest';
import { CandidateCollector } from '../../parity/collect/candidate.js';
import { append, cleanups, devhostWithWriter } from '../client/testing/sync-client-fixture.js';
import { SYNC_DB } from '../support/devhost-harness.js';

describe('CandidateCollector rebootstraps', () => {
  it('tells its listener which stream rebootstrapped and why, and records the reason', async () => {
    const { devhost, writer } = await devhostWithWriter();
    cleanups.push(async () => {
      writer.conn.disconnect();
      await devhost.stop();
    });
    await append(writer, 'parity:reset', ['a', 'b']);
    const told: string[] = [];
    const collector = new CandidateCollector(
      { uri: devhost.url, database: SYNC_DB, token: devhost.ownerToken },
      ['parity:reset'],
      new Map(),
      (stream, why) => told.push(`${stream} ${why}`),
    );
    cleanups.push(() => collector.stop());
    await collector.start();
    await expect.poll(() => collector.events, { timeout: 10_000 }).toBe(2);

    await writer.conn.reducers.resetStream({ streamId: 'parity:reset' });
    await expect.poll(() => told, { timeout: 10_000 }).toEqual(['parity:reset epoch_changed (epoch 1 -> 2)']);
    expect(collector.entries.filter((e) => e.kind === 'rebootstrap')).toMatchObject([
      { streamId: 'parity:reset', reason: 'epoch_changed' },
    ]);
  });
});
