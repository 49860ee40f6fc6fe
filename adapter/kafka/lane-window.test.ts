/**
 * The lane window alone, driven by tables: each call's answer is held until the test releases it,
 * so several are in flight; the table says how each answers. What is asserted is the order the
 * window sends, redoes and records calls in — the rules that keep a partition's order.
 */
import { describe, expect, it } from 'vitest';
import { LaneWindow, WindowDropped } from './lane-window.js';

type Answer = 'ok' | 'fail';

function harness(max: number, answers: Record<string, Answer>, live = () => true) {
  const log: string[] = [];
  const held: { group: string; settle: () => void }[] = [];
  let peak = 0;
  const window = new LaneWindow<string, string>(max, {
    send: (group, next, from) => {
      log.push(`send ${group} →${next}${from === undefined ? '' : ` after ${from}`}`);
      return new Promise<string>((resolve, reject) => {
        held.push({
          group,
          settle: () => (answers[group] === 'fail' ? reject(new Error(`${group} failed`)) : resolve(group)),
        });
        peak = Math.max(peak, held.length);
      });
    },
    answered: (group) => log.push(`answered ${group}`),
    redo: async (group) => {
      log.push(`redo ${group}`);
    },
    live,
  });
  /** Answers every call sent so far, oldest first, until the window's work is done. */
  const answerAll = async (work: Promise<void>) => {
    let done = false;
    void work.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done) {
      held.shift()?.settle();
      await new Promise<void>((r) => setImmediate(r));
    }
    return work;
  };
  return { window, log, answerAll, peak: () => peak };
}

async function sendAll(w: LaneWindow<string, string>, groups: string[]): Promise<void> {
  for (const [i, g] of groups.entries()) await w.send(g, BigInt((i + 1) * 10));
  await w.drain();
}

describe('LaneWindow', () => {
  it.each([
    {
      name: 'all answer: each call names its predecessor’s cursor, answers are taken oldest first',
      max: 3,
      answers: {},
      log: [
        'send a →10',
        'send b →20 after 10',
        'send c →30 after 20',
        'answered a',
        'send d →40 after 30',
        'answered b',
        'answered c',
        'answered d',
      ],
    },
    {
      name: 'the oldest fails: it and every later failed call are redone in order after all answered',
      max: 3,
      answers: { a: 'fail', b: 'fail', c: 'fail' },
      log: [
        'send a →10',
        'send b →20 after 10',
        'send c →30 after 20',
        'redo a',
        'redo b',
        'redo c',
        'send d →40',
        'answered d',
      ],
    },
    {
      name: 'a middle call fails: the ones before it stand, it and the later failed ones are redone',
      max: 4,
      answers: { b: 'fail', c: 'fail', d: 'fail' },
      log: [
        'send a →10',
        'send b →20 after 10',
        'send c →30 after 20',
        'send d →40 after 30',
        'answered a',
        'redo b',
        'redo c',
        'redo d',
      ],
    },
    {
      // Its answer was lost but it committed: the next one was applied after it and stands.
      name: 'a failed call whose successor succeeded: only the failed one is redone, before the successor is recorded',
      max: 3,
      answers: { a: 'fail' },
      log: [
        'send a →10',
        'send b →20 after 10',
        'send c →30 after 20',
        'redo a',
        'answered b',
        'answered c',
        'send d →40',
        'answered d',
      ],
    },
    {
      name: 'a window of one sends nothing itself: every call is the sequential path',
      max: 1,
      answers: { a: 'fail' },
      log: ['redo a', 'redo b', 'redo c', 'redo d'],
    },
  ])('$name', async ({ max, answers, log }) => {
    const h = harness(max, answers as Record<string, Answer>);
    await h.answerAll(sendAll(h.window, ['a', 'b', 'c', 'd']));
    expect(h.log).toEqual(log);
    expect(h.peak()).toBeLessThanOrEqual(max);
  });

  it('drops the window once its batch is not live: what is in flight is waited for, nothing more sent or redone', async () => {
    let live = true;
    const h = harness(4, { a: 'fail' }, () => live);
    const work = (async () => {
      await h.window.send('a', 10n);
      await h.window.send('b', 20n);
      live = false; // revoked while a and b are in flight
      await h.window.send('c', 30n);
    })();
    const dropped = await h.answerAll(work).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(WindowDropped);
    // a failed: the partition must be read again from a, not from c.
    expect((dropped as WindowDropped).group).toBe('a');
    expect(h.log).toEqual(['send a →10', 'send b →20 after 10']);
    expect(h.window.inFlight).toBe(0);
  });

  it('names the call not sent as where to read again when every call in flight answered', async () => {
    let live = true;
    const h = harness(4, {}, () => live);
    const work = (async () => {
      await h.window.send('a', 10n);
      live = false;
      await h.window.send('b', 20n);
    })();
    const dropped = await h.answerAll(work).catch((e: unknown) => e);
    expect((dropped as WindowDropped).group).toBe('b');
  });

  it('refuses a window below one', () => {
    expect(() => harness(0, {})).toThrow(RangeError);
  });
});
