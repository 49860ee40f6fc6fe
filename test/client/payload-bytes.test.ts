/**
 * Byte-array columns of small row lists reach the application as views of the SDK's copy of the
 * update rather than as copies of their own (patches/spacetimedb+2.10.1.patch, `viewByteArrays`).
 * What a user would notice if that were unsafe: a payload kept from an earlier event changing when
 * later updates arrive, or one event's bytes showing another's. Every event the application kept,
 * replayed or live, still has its own payload and a hash that matches it after many more updates.
 * Row lists over 64 KiB (replay windows) copy their short byte arrays into shared 64 KiB blocks
 * (`byteArrayBlocks`): the same must hold for them.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryCursorStore } from '../../client/cursor-store.js';
import { SyncClient, type SyncEvent } from '../../client/sync-client.js';
import { SYNC_DB } from '../support/devhost-harness.js';
import { eventInput } from '../support/sync-events.js';
import { cleanups, hostWithWriter, readerToken } from './testing/sync-client-fixture.js';

const body = (key: string) => `payload of ${key}: ${key.repeat(40)}`;

describe('event payloads kept by the application', () => {
  it('stay intact and their own across later replayed and live updates', async () => {
    const { devhost, writer } = await hostWithWriter();
    const appendKeys = (keys: string[]) =>
      writer.conn.reducers.appendSyncEvents({
        events: keys.map((k) => eventInput('orders', k, { body: body(k) })),
        cursor: undefined,
      });
    // A replayed batch first, then live batches of several rows each.
    await appendKeys(Array.from({ length: 30 }, (_, i) => `r${i}`));
    const kept: SyncEvent[] = [];
    const client = await SyncClient.open(['orders'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await readerToken(devhost, ['orders']),
      clientId: 'desk-bytes',
      store: new MemoryCursorStore(),
      onEvent: (_s, e) => {
        kept.push(e);
      },
    });
    cleanups.push(() => client.close());
    await client.waitLive();
    for (let b = 0; b < 10; b++) await appendKeys(Array.from({ length: 5 }, (_, i) => `l${b}-${i}`));
    await expect.poll(() => kept.length, { timeout: 10_000 }).toBe(80);
    for (const e of kept) {
      expect(new TextDecoder().decode(e.payload)).toBe(body(e.idempotencyKey));
      expect(Buffer.from(e.payloadHash)).toEqual(createHash('sha256').update(e.payload).digest());
    }
    // Writing into one kept payload changes no other event's bytes.
    const first = kept[0] as SyncEvent;
    first.payload.fill(0);
    for (const e of kept.slice(1)) expect(new TextDecoder().decode(e.payload)).toBe(body(e.idempotencyKey));
  });

  it('stay intact and their own when replayed in windows larger than 64 KiB', async () => {
    const { devhost, writer } = await hostWithWriter();
    // 1,200 events of ~300 B: windows of 400 rows are row lists of over 100 KiB.
    const long = (key: string) => `${body(key)} ${'p'.repeat(120)}`;
    for (let b = 0; b < 1_200; b += 300)
      await writer.conn.reducers.appendSyncEvents({
        events: Array.from({ length: 300 }, (_, i) =>
          eventInput('orders', `w${b + i}`, { body: long(`w${b + i}`) }),
        ),
        cursor: undefined,
      });
    const kept: SyncEvent[] = [];
    const client = await SyncClient.open(['orders'], {
      uri: devhost.url,
      database: SYNC_DB,
      token: await readerToken(devhost, ['orders']),
      clientId: 'desk-bytes-windows',
      store: new MemoryCursorStore(),
      replayWindow: 400,
      onEvent: (_s, e) => {
        kept.push(e);
      },
    });
    cleanups.push(() => client.close());
    await client.waitLive();
    expect(kept.length).toBe(1_200);
    for (const e of kept) {
      expect(new TextDecoder().decode(e.payload)).toBe(long(e.idempotencyKey));
      expect(Buffer.from(e.payloadHash)).toEqual(createHash('sha256').update(e.payload).digest());
    }
    for (const e of kept.filter((_, i) => i % 2 === 0)) {
      e.payload.fill(0);
      e.payloadHash.fill(0);
    }
    for (const e of kept.filter((_, i) => i % 2 === 1)) {
      expect(new TextDecoder().decode(e.payload)).toBe(long(e.idempotencyKey));
      expect(Buffer.from(e.payloadHash)).toEqual(createHash('sha256').update(e.payload).digest());
    }
  });
});
