import { describe, expect, it } from 'vitest';
import { isSyncError } from '../shared/errors/sync-error.js';
import { type AckSource, Checkpoints } from './checkpoints.js';

const stream = (id: string, applied: bigint, epoch: bigint | undefined): AckSource => ({
  id,
  applied,
  epoch,
  settled: Promise.resolve(),
});

describe('Checkpoints', () => {
  it('acks only streams that moved past their last ack, and only with a known epoch', async () => {
    const sent: string[] = [];
    const acks = new Checkpoints();
    acks.reset('a', 5n);
    const send = async (id: string, seq: bigint, epoch: bigint) => {
      sent.push(`${id}@${seq}/${epoch}`);
    };
    await acks.flush(
      [stream('a', 5n, 1n), stream('b', 3n, 1n), stream('c', 2n, undefined)],
      send,
      () => true,
    );
    expect(sent).toEqual(['b@3/1']);
    await acks.flush([stream('a', 6n, 1n), stream('b', 3n, 1n)], send, () => true);
    expect(sent).toEqual(['b@3/1', 'a@6/1']);
  });

  it('a call that never settles (the SDK forgets calls of a dropped socket) times out, and the next flush sends again', async () => {
    const acks = new Checkpoints(50);
    let calls = 0;
    const never = () => {
      calls++;
      return new Promise<void>(() => {});
    };
    await acks.flush([stream('a', 4n, 1n)], never, () => true);
    await acks.flush([stream('a', 4n, 1n)], never, () => true);
    expect(calls).toBe(2);
  });

  it('stops once the connection it sends on is no longer current', async () => {
    const sent: string[] = [];
    let current = true;
    await new Checkpoints().flush(
      [stream('a', 1n, 1n), stream('b', 1n, 1n)],
      async (id) => {
        sent.push(id);
        current = false;
      },
      () => current,
    );
    expect(sent).toEqual(['a']);
  });
});

describe('Checkpoints: refused acks', () => {
  const refusal = (reason: string, fields: string) => new Error(`SenderError: ${reason}: refused\n${fields}`);

  it('hands an ack refused for good to the application once, as the contract SyncError, and keeps trying', async () => {
    const reported: [string, string, string | undefined][] = [];
    const acks = new Checkpoints(1_000, (id, e) =>
      reported.push([id, e.reason, isSyncError(e, 'unauthorized') ? e.detail?.action : undefined]),
    );
    let calls = 0;
    const send = async () => {
      calls++;
      throw refusal('unauthorized', '{"action":"ack checkpoints","resource":"desk-1"}');
    };
    await acks.flush([stream('a', 3n, 1n)], send, () => true);
    await acks.flush([stream('a', 3n, 1n)], send, () => true);
    expect(calls).toBe(2);
    expect(reported).toEqual([['a', 'unauthorized', 'ack checkpoints']]);
  });

  it('does not report a stale ack (the client rebootstraps) nor a retryable failure (the next flush sends again)', async () => {
    const reported: string[] = [];
    const acks = new Checkpoints(1_000, (_, e) => reported.push(e.reason));
    await acks.flush(
      [stream('a', 3n, 1n)],
      async () => {
        throw refusal(
          'stale_cursor',
          '{"stream_id":"a","low_watermark":"1","epoch":"2","requested_epoch":"1"}',
        );
      },
      () => true,
    );
    await acks.flush(
      [stream('a', 3n, 1n)],
      async () => {
        throw new Error('socket closed');
      },
      () => true,
    );
    expect(reported).toEqual([]);
  });
});
