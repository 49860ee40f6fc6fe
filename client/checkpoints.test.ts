import { describe, expect, it } from 'vitest';
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
