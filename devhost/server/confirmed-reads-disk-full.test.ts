/**
 * Confirmed reads across a full disk (chaos long run 7fa2405, issue 17): a connection's outbound
 * queue holds the broadcast of a transaction until its offset is durable. When the log runs out of
 * space, the transactions it could not hold are rolled back and their offsets are handed out again
 * once space returns. A queue that only started waiting for such an offset after the stall (it was
 * still waiting for an earlier one) used to be released by the *new* transaction at that offset and
 * sent the rolled-back one: clients applied an event that no longer existed, then saw the stream's
 * head go back under them (`server_behind`) and rebootstrapped. The real commit log (fault injected
 * at its file seam, as in devhost/durability/disk-full.test.ts) and the real queue; no server needed.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HostedDatabase } from '../contract.js';
import { isDurabilityError, openDurability } from '../durability/index.js';
import { workloadTx } from '../durability/testing/crash-model.js';
import { FillableFs } from '../durability/testing/fillable-fs.js';
import { removeTempDataDirs, tempDataDir } from '../durability/testing/fixtures.js';
import { CommitPipeline } from '../host/commit-pipeline.js';
import type { HostModuleSchema } from '../schema/index.js';
import { encodeRow, loadSchema, TEST_MODULE, tableOf } from '../sql/testing/schema.js';
import { Datastore } from '../store/datastore.js';
import { DatabaseHub } from './database-hub.js';
import { sharedServerFrame } from './framing.js';
import { OutboundQueue } from './outbound-queue.js';

afterEach(removeTempDataDirs);

let schema: HostModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

describe('confirmed reads when the commit log runs out of space', () => {
  it('never sends a rolled-back transaction, even once its offset is reused by a durable one', async () => {
    const fs = new FillableFs();
    // No fsync until asked: tx 0 stays written but not durable until the stall's own fsync.
    const log = openDurability(tempDataDir(), {
      logFs: fs,
      spaceProbeMs: 5,
      fsync: { intervalMs: 3_600_000 },
    });
    const sent: Buffer[] = [];
    let failure: unknown;
    const queue = new OutboundQueue({
      version: 'v2',
      compression: 'None',
      confirmed: true,
      waitDurable: (offset) => log.waitDurable(offset),
      sendFrame: (frame) => sent.push(frame),
      onFailure: (e) => {
        failure = e;
      },
    });
    const durableUpdate = new Uint8Array([0, 0, 0]);
    const rolledBackUpdate = new Uint8Array([1, 1, 1]);

    log.append(workloadTx(0n));
    await vi.waitFor(() => expect(fs.written).toBe(1), { timeout: 20_000 });
    queue.push(durableUpdate, 0n);
    // One turn of the event loop: the queue has taken its run and waits for offset 0 alone (a
    // broadcast arriving while a connection waits for an earlier commit, the usual case under load).
    await new Promise((r) => setImmediate(r));
    fs.full = true;
    log.append(workloadTx(1n)); // cannot be logged: rolled back
    queue.push(rolledBackUpdate, 1n); // its broadcast, queued behind the wait for offset 0

    // The stall fsyncs what was written: offset 0 goes out.
    await vi.waitFor(() => expect(sent).toHaveLength(1), { timeout: 20_000 });

    // Space returns and another transaction takes offset 1 and becomes durable.
    fs.full = false;
    await expect.poll(() => log.blocked?.()).toBeUndefined();
    log.append(workloadTx(1n));
    await log.close();
    expect(log.durableOffset()).toBe(1n);
    // The rolled-back update never went out: the queue gave up on it (the connection closes).
    expect(sent).toEqual([sharedServerFrame(durableUpdate, 'None')]);
    expect(isDurabilityError(failure, 'no-space')).toBe(true);
  });

  it('during a stall, waits for what was logged and refuses what was not, even once its offset is reused', async () => {
    const fs = new FillableFs();
    const log = openDurability(tempDataDir(), {
      logFs: fs,
      spaceProbeMs: 5,
      fsync: { intervalMs: 3_600_000 },
    });
    log.append(workloadTx(0n));
    await vi.waitFor(() => expect(fs.written).toBe(1), { timeout: 20_000 });
    const stalled = new Promise<bigint>((resolve) =>
      log.onStall?.({ stalled: (last) => resolve(last), resumed: () => {} }),
    );
    fs.full = true;
    log.append(workloadTx(1n));
    expect(await stalled).toBe(0n);
    // Asked during the stall: offset 0 was logged (the stall's fsync makes it durable), 1 was not.
    await expect(log.waitDurable(0n)).resolves.toBeUndefined();
    const late = log.waitDurable(1n).then(
      () => 'released by whatever reuses offset 1',
      (e: unknown) => e,
    );
    fs.full = false;
    await expect.poll(() => log.blocked?.()).toBeUndefined();
    log.append(workloadTx(1n));
    await log.close();
    expect(isDurabilityError(await late, 'no-space')).toBe(true);
  });

  it('a read during the stall is held for the offset the state went back to, which is durable', async () => {
    const fs = new FillableFs();
    const log = openDurability(tempDataDir(), { logFs: fs, spaceProbeMs: 5, fsync: 'always' });
    const store = new Datastore(schema.typespace);
    for (const t of schema.tables) store.addTable(t, schema.uniqueConstraints.get(t.tableId) ?? []);
    const logged: string[] = [];
    const pipeline = new CommitPipeline({ store, durability: log, log: (_l, m) => logged.push(m) });
    // The hub reads nothing of the database but its commits.
    const db = { onCommit: (l) => pipeline.onCommit(l) } as Pick<HostedDatabase, 'onCommit'>;
    const hub = new DatabaseHub(db as HostedDatabase, (e) => logged.push(String(e)));
    const counter = (name: string) =>
      store.insert(tableOf(schema, 'counter').tableId, encodeRow(schema, 'counter', { name, value: 1n }));

    store.begin();
    counter('a');
    pipeline.commit(1n);
    await log.waitDurable(0n);
    fs.full = true;
    store.begin();
    counter('b');
    pipeline.commit(2n); // offset 1: cannot be logged, rolled back
    await vi.waitFor(() => expect(logged.join('\n')).toMatch(/rolled back 1 committed transaction/), {
      timeout: 20_000,
    });

    // A subscription answered now shows the rolled-back state: it waits for offset 0, not for 1
    // (which the stalled log refuses, closing the connection of every client that subscribes).
    expect(hub.lastOffset).toBe(0n);
    await expect(log.waitDurable(hub.lastOffset ?? -1n)).resolves.toBeUndefined();
    hub.close();
    fs.full = false;
    await expect.poll(() => log.blocked?.()).toBeUndefined();
    await log.close();
  });
});
