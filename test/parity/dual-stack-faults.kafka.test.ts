/**
 * Dual-stack parity over the real broker, faults: injected divergences of each class are detected
 * and classified, the `spacetime-sync parity` CLI reports them with its exit codes, and a legacy lane
 * restarted from an old snapshot is caught. The lanes are the workload test's
 * (dual-stack.kafka.test.ts), started anew for this file.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { syncEnvelope } from '../support/envelopes.js';
import type { DualStack } from './testing/dual-stack.js';
import { collectors, events, FAULTS, ownLanes, parity, SNAPSHOT, updates } from './testing/parity-run.js';

let stack: DualStack;
ownLanes((s) => {
  stack = s;
});

describe('dual-stack parity: injected faults and the CLI', () => {
  it('detects and classifies injected faults: a dropped event, a reordered pair, a corrupted payload, a duplicate with a new hash', async () => {
    const ev = (stream: string, seq: bigint, body: string, key = `${stream}#${seq}`) =>
      syncEnvelope(stream, key, body, seq, { authorityTopic: FAULTS });
    const streams = ['f:drop', 'f:order', 'f:corrupt', 'f:dup'];
    const c = collectors(stack, [FAULTS], streams);
    const run = await parity(
      c,
      [FAULTS],
      streams,
      async () => {
        // Dropped: the candidate's feed never carries event 2.
        await stack.produce(stack.shared, [ev('f:drop', 1n, '{"v":1}')]);
        await stack.produce(stack.legacyOnly, [ev('f:drop', 2n, '{"v":2}')]);
        await stack.produce(stack.shared, [ev('f:drop', 3n, '{"v":3}')]);
        // Reordered: the legacy lane's feed swaps events 2 and 3.
        const o = [1n, 2n, 3n].map((s) => ev('f:order', s, `{"v":${s}}`));
        await stack.produce(stack.candidateOnly, o);
        await stack.produce(stack.legacyOnly, [o[0]!, o[2]!, o[1]!]);
        // Corrupted: the two feeds carry different bytes for one event.
        await stack.produce(stack.candidateOnly, [ev('f:corrupt', 1n, '{"v":"good"}')]);
        await stack.produce(stack.legacyOnly, [ev('f:corrupt', 1n, '{"v":"bad"}')]);
        // Duplicate with a new hash: a producer re-emits authority event 1 under a new key with new
        // content. Ours skips it (its authority seq is not new); the legacy lane journals it again.
        await stack.produce(stack.shared, [
          ev('f:dup', 1n, '{"v":1}'),
          ev('f:dup', 1n, '{"v":"changed"}', 'f:dup#again'),
        ]);
        await vi.waitFor(
          () => {
            expect(updates(c.legacy.entries, FAULTS)).toHaveLength(3 + 3 + 1 + 2);
            expect(c.candidate.entries.filter((e) => e.kind === 'event')).toHaveLength(2 + 3 + 1 + 1);
          },
          { timeout: 60_000, interval: 100 },
        );
      },
      1_000,
    );
    const found = run.classification.divergences.map((d) => ({
      class: d.class,
      stream: d.streamId,
      version: d.key?.version,
      lane: d.lane,
    }));
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        { class: 'missing', stream: 'f:drop', version: '2', lane: undefined },
        {
          class: 'order_differs',
          stream: 'f:order',
          version: expect.stringMatching(/^[23]$/),
          lane: undefined,
        },
        { class: 'payload_differs', stream: 'f:corrupt', version: '1', lane: undefined },
        { class: 'duplicate', stream: 'f:dup', version: '1', lane: 'legacy' },
      ]),
    );
    expect(run.classification.divergences.find((d) => d.class === 'duplicate')?.detail).toMatch(
      /new payload hash/,
    );
    expect(run.classification.divergences.find((d) => d.class === 'payload_differs')).toMatchObject({
      legacy: { payload: '{"v":"bad"}' },
      candidate: { payload: '{"v":"good"}' },
    });
    expect(run.state).toEqual({ t: 'done', why: 'settle_timeout' });
  }, 120_000);

  it('`spacetime-sync parity` exits 0 on parity, 1 with the first divergence and a JSON report, 3 on a generation-2 endpoint', async () => {
    const CLI = 'parity.cli';
    const dir = await mkdtemp(join(tmpdir(), 'parity-cli-'));
    const legacyTokenFile = join(dir, 'legacy-token');
    const tokenFile = join(dir, 'token');
    await writeFile(legacyTokenFile, stack.legacyToken);
    await writeFile(tokenFile, stack.ownerToken);
    const ev = (stream: string, seq: bigint, body: string) =>
      syncEnvelope(stream, `${stream}#${seq}`, body, seq, { authorityTopic: CLI });
    await stack.produce(stack.shared, [ev('cli:1', 1n, '{"a":1}'), ev('cli:2', 2n, '{"b":2}')]);
    const cli = async (...extra: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
      const progress = vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
      try {
        const code = await main(
          [
            'parity',
            ...[
              '--legacy',
              stack.legacy.url,
              '--candidate',
              stack.candidateUri,
              '--db',
              stack.service.database,
            ],
            ...['--topics', CLI, '--streams', 'cli:1,cli:2', '--duration', '500ms', '--settle', '20s'],
            ...['--legacy-token-file', legacyTokenFile, '--token-file', tokenFile],
            ...extra,
          ],
          { writeOut: (x) => out.push(x), writeErr: (x) => err.push(x) },
        );
        return { code, out: out.join('\n'), err: err.join('') };
      } finally {
        log.mockRestore();
        progress.mockRestore();
      }
    };
    const ok = await cli('--json', join(dir, 'ok.json'));
    expect(ok.out).toMatch(/parity OK: 2 events compared/);
    expect(ok.err).toMatch(/legacy 2 updates .* candidate 2 events/);
    expect(ok.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'ok.json'), 'utf8'))).toMatchObject({ ok: true, compared: 2 });

    // The legacy lane's feed alone carries a different payload for cli:2's next event.
    await stack.produce(stack.candidateOnly, [ev('cli:2', 3n, '{"b":3}')]);
    await stack.produce(stack.legacyOnly, [ev('cli:2', 3n, '{"b":"three"}')]);
    await vi.waitFor(() => expect(stack.legacy.journal.head(CLI)).toBe(3), { timeout: 30_000 });
    const diverged = await cli('--json', join(dir, 'diverged.json'));
    expect(diverged.code).toBe(1);
    expect(diverged.out).toMatch(/parity DIVERGED/);
    expect(diverged.out).toMatch(/first divergence: payload_differs/);
    expect(diverged.out).toContain('payload {"b":"three"}');
    expect(diverged.out).toContain('payload {"b":3}');
    const report = JSON.parse(await readFile(join(dir, 'diverged.json'), 'utf8'));
    expect(report).toMatchObject({
      ok: false,
      counts: { payload_differs: 1 },
      firstDivergence: { class: 'payload_differs' },
    });

    const gen2 = await cli(
      '--legacy',
      `${stack.legacy.url.replace(/\/socket\/websocket$/, '')}/internal/v1/khala/topics/${CLI}/ws`,
    );
    expect(gen2.code).toBe(3);
    expect(gen2.err).toMatch(/generation-2/);
  }, 120_000);

  it('detects a lane restarted from an old snapshot: what it lost and re-numbered never reaches the resuming client', async () => {
    const ev = (seq: bigint) =>
      syncEnvelope('f:snap', `snap#${seq}`, `{"v":${seq}}`, seq, { authorityTopic: SNAPSHOT });
    const c = collectors(stack, [SNAPSHOT], ['f:snap']);
    const bothHave = (n: number) =>
      vi.waitFor(
        () => {
          expect(updates(c.legacy.entries, SNAPSHOT)).toHaveLength(n);
          expect(events(c.candidate.entries, 'f:snap')).toHaveLength(n);
        },
        { timeout: 60_000, interval: 100 },
      );
    const run = await parity(
      c,
      [SNAPSHOT],
      ['f:snap'],
      async () => {
        await stack.produce(stack.shared, [ev(1n), ev(2n)]);
        await bothHave(2);
        const snapshot = await stack.snapshotLegacy();
        await stack.produce(stack.shared, [ev(3n), ev(4n)]);
        await bothHave(4);
        await stack.restartLegacy(snapshot); // the journal goes back to watermark 2; Kafka offsets do not
        await stack.produce(stack.shared, [ev(5n), ev(6n)]);
        await vi.waitFor(() => expect(stack.legacy.journal.head(SNAPSHOT)).toBe(4), { timeout: 60_000 });
        await vi.waitFor(() => expect(events(c.candidate.entries, 'f:snap')).toHaveLength(6), {
          timeout: 60_000,
        });
      },
      1_000,
    );
    expect(run.classification.divergences.map((d) => [d.class, d.key?.version])).toEqual([
      ['extra', '5'],
      ['extra', '6'],
    ]);
  }, 120_000);
});
