/**
 * `spacetime-sync publish` against a real service (embedded devhost): envelopes the CLI builds are
 * accepted as they are, receipts are printed, authority seqs continue the stream's, and mistakes
 * get their exit codes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../adapter/service.js';
import { tokenFileEnv } from '../support/auth.js';
import { cliEnv, runCli } from '../support/cli.js';
import { embeddedStoredEvents } from '../support/devhost-harness.js';
import { startTestService } from '../support/service-harness.js';

let service: RunningService;
let env: Record<string, string>;
beforeAll(async () => {
  service = await startTestService();
  env = cliEnv({ SPACETIME_SYNC_URL: service.httpUrl, ...(await tokenFileEnv()) });
});
afterAll(() => service?.stop());

/** `seq:key` of a stream's stored events, in seq order. */
const stored = async (stream: string) =>
  ((await embeddedStoredEvents(service.devhost, service.database)).get(stream) ?? []).map(
    (e) => `${e.seq}:${e.key}`,
  );

describe('spacetime-sync publish', () => {
  it('sends one --json payload and prints its receipt', async () => {
    const r = await runCli(['publish', 'pub:1', '--kind', 'order.v1', '--json', '{"total":3}'], { env });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('pub:1\tseq 1\tappended\tepoch 1\tkey cli:1\n');
    expect(service.writer.stream('pub:1')?.lastSourceSeq).toBe(1n);
  });

  it('sends one event per stdin line, continuing the stream’s authority seq', async () => {
    const r = await runCli(['publish', 'pub:1', '--kind', 'line.v1'], { env, input: 'a\nb\n\nc\n' });
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual([
      'pub:1\tseq 2\tappended\tepoch 1\tkey cli:2',
      'pub:1\tseq 3\tappended\tepoch 1\tkey cli:3',
      'pub:1\tseq 4\tappended\tepoch 1\tkey cli:4',
    ]);
    expect(await stored('pub:1')).toEqual(['1:cli:1', '2:cli:2', '3:cli:3', '4:cli:4']);
  });

  it('sends a --file as it is, with the given key and authority coordinates', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'publish-')), 'payload.bin');
    writeFileSync(file, Buffer.from([0, 1, 2, 255]));
    const args = ['publish', 'pub:2', '--kind', 'blob.v1', '--file', file, '--key', 'k-1'];
    const r = await runCli([...args, '--authority-topic', 'billing', '--authority-seq', '7'], { env });
    expect(r.code).toBe(0);
    expect(r.out).toBe('pub:2\tseq 1\tappended\tepoch 1\tkey k-1\n');
    expect(service.writer.stream('pub:2')?.lastSourceSeq).toBe(7n);
    // The same event again is a duplicate with its original seq, not a second event.
    expect(
      (await runCli([...args, '--authority-topic', 'billing', '--authority-seq', '7'], { env })).out,
    ).toBe('pub:2\tseq 1\tduplicate\tepoch 1\tkey k-1\n');
  });

  it('--in-flight 4 keeps several calls in flight and the stream still gets every line in order', async () => {
    const lines = Array.from({ length: 1_600 }, (_, i) => `line ${i + 1}`);
    const r = await runCli(['publish', 'pub:pipe', '--kind', 'line.v1', '--in-flight', '4'], {
      env,
      input: `${lines.join('\n')}\n`,
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = r.out.trim().split('\n');
    expect(out).toHaveLength(1_600);
    expect(out.every((l, i) => l === `pub:pipe\tseq ${i + 1}\tappended\tepoch 1\tkey cli:${i + 1}`)).toBe(
      true,
    );
    expect(await stored('pub:pipe')).toEqual(lines.map((_, i) => `${i + 1}:cli:${i + 1}`));
    const usage = await runCli(['publish', 'pub:pipe', '--kind', 'x', '--json', '1', '--in-flight', '0'], {
      env,
    });
    expect(usage.code).toBe(2);
  }, 60_000);

  it('--in-flight: a call refused in the middle ends the command (exit 1) with receipts only for what was applied', async () => {
    // Key cli:700 already holds other content (under another authority): the call carrying line 700
    // is refused as a conflict; the calls behind it, already in flight, come back out of order.
    const taken = ['publish', 'pub:gap', '--kind', 'x.v1', '--json', '"other"', '--key', 'cli:700'];
    expect(
      (await runCli([...taken, '--authority-topic', 'other', '--authority-seq', '1'], { env })).code,
    ).toBe(0);
    const lines = Array.from({ length: 1_600 }, (_, i) => `"line ${i + 1}"`);
    const r = await runCli(
      ['publish', 'pub:gap', '--kind', 'line.v1', '--authority-seq', '1', '--in-flight', '4'],
      { env, input: `${lines.join('\n')}\n` },
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('(CONFLICT)');
    const printed = r.out.trim().split('\n').filter(Boolean);
    expect(printed.length).toBeLessThan(700);
    // The error says where the receipts stop.
    expect(r.err).toContain(`payload ${printed.length + 1} and after: no receipt`);
    // What was printed is exactly what the stream holds beside the taken key: nothing behind the
    // refused call was applied, nothing applied went unreported.
    expect(printed.every((l, i) => l === `pub:gap\tseq ${i + 2}\tappended\tepoch 1\tkey cli:${i + 1}`)).toBe(
      true,
    );
    expect(await stored('pub:gap')).toEqual(['1:cli:700', ...printed.map((_, i) => `${i + 2}:cli:${i + 1}`)]);
  }, 60_000);

  it('exit 1 with the typed reason when the service refuses (a key reused with other content)', async () => {
    const r = await runCli(['publish', 'pub:1', '--kind', 'x.v1', '--json', '"other"', '--key', 'cli:1'], {
      env,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('(CONFLICT)');
  });

  it('exit 2 for a payload that is not JSON, two payload sources, or no payload', async () => {
    const bad = await runCli(['publish', 'pub:1', '--kind', 'x', '--json', '{nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--json is not JSON');
    expect(
      (await runCli(['publish', 'pub:1', '--kind', 'x', '--json', '1', '--file', 'f'], { env })).code,
    ).toBe(2);
    const none = await runCli(['publish', 'pub:1', '--kind', 'x'], { env, input: '' });
    expect(none.code).toBe(2);
    expect(none.err).toContain('no payload');
  });

  it('exit 3 when no service answers', async () => {
    const r = await runCli(
      ['publish', 'pub:1', '--kind', 'x', '--json', '1', '--url', 'http://127.0.0.1:1'],
      {
        env,
      },
    );
    expect(r.code).toBe(3);
  });
});
