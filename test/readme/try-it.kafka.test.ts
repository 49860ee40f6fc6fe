/**
 * README "Try it", run as written: a broker and `npm start` (terminal 1), `tail` (terminal 2), then
 * publishing through the CLI, curl and Kafka, and `tail` restarted from its store. Each ```sh block
 * runs in its own bash in the repository, with only a shell's variables plus a state dir, free ports
 * and a TMPDIR of the test's own; the one edit is the ingest address in the curl line (the test
 * cannot count on port 8080 being free). The ```ts kafkajs example runs with an `envelope` in scope.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const CURSORS = join(ROOT, 'cursors.json');
const SNIPPET = join(ROOT, 'test/readme/kafkajs-example.tmp.ts');

interface Block {
  readonly lang: string;
  readonly script: string;
}

/** The fenced blocks of README's "## Try it" section, in order. */
function tryItBlocks(): Block[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Try it'),
    readme.indexOf('\n## ', readme.indexOf('## Try it') + 1),
  );
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1] as string,
    script: m[2] as string,
  }));
}

const stateDir = mkdtempSync(join(tmpdir(), 'try-it-state-'));
const tmp = mkdtempSync(join(tmpdir(), 'try-it-tmp-'));
const env: Record<string, string> = {
  ...Object.fromEntries(
    ['PATH', 'HOME', 'LANG'].flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])),
  ),
  SPACETIME_SYNC_STATE_DIR: stateDir,
  TMPDIR: tmp,
  INGEST_PORT: '0',
  DEVHOST_PORT: '0',
};

interface Running {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}

const running: Running[] = [];

/** A block as its own process group (like a terminal), so Ctrl-C reaches every process in it. */
function launch(script: string): Running {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env, detached: true });
  const r: Running = {
    child,
    out: '',
    err: '',
    // 'close', not 'exit': the last output can still be in the pipe when 'exit' fires.
    exited: new Promise((resolve) => child.once('close', (code) => resolve(code))),
  };
  child.stdout?.on('data', (d: Buffer) => {
    r.out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    r.err += d.toString();
  });
  running.push(r);
  return r;
}

async function run(script: string): Promise<{ code: number | null; out: string; err: string }> {
  const r = launch(script);
  const code = await r.exited;
  return { code, out: r.out, err: r.err };
}

/** Ctrl-C: the signal to the whole group (npx exits by it; the node process behind it stops cleanly). */
function interrupt(r: Running, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  try {
    if (r.child.pid !== undefined) process.kill(-r.child.pid, signal);
  } catch {
    // the group is gone already
  }
  return r.exited;
}

const tailLines = (r: Running) => r.out.split('\n').filter(Boolean);

afterAll(async () => {
  for (const r of running.reverse()) await interrupt(r, 'SIGTERM').catch(() => {});
  // The broker the README started lives in the test's TMPDIR.
  for (const d of readdirSync(tmp).filter((n) => n.startsWith('spacetime-sync-kafka.')))
    await run(`bash scripts/kafka.sh stop --data ${join(tmp, d)}`);
  rmSync(CURSORS, { force: true });
  rmSync(SNIPPET, { force: true });
}, 60_000);

describe('README "Try it"', () => {
  it('start, tail, publish via the CLI, curl and Kafka, restart tail from its store', async () => {
    rmSync(CURSORS, { force: true });
    const blocks = tryItBlocks();
    const sh = blocks.filter((b) => b.lang === 'sh').map((b) => b.script);
    const [start, tail, publish, curl, kafka, publishMore, tailAgain] = sh;
    expect(sh).toHaveLength(7);

    // Terminal 1: broker + service.
    const service = launch(start as string);
    await expect.poll(() => service.out, { timeout: 120_000, interval: 200 }).toContain('"msg":"ready"');
    const local = JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as {
      url: string;
      kafka: { brokers: string[] };
    };

    // Terminal 2: tail.
    const follower = launch(tail as string);

    // Terminal 3: the CLI, curl, Kafka.
    const cli = await run(publish as string);
    expect(cli, cli.err).toMatchObject({ code: 0 });
    expect(cli.out).toContain('orders:1\tseq 1\tappended');
    expect(cli.out).toContain('orders:1\tseq 2\tappended');
    expect(curl).toContain('http://127.0.0.1:8080/');
    const viaCurl = await run((curl as string).replace('http://127.0.0.1:8080/', `${local.url}/`));
    expect(viaCurl.code, viaCurl.err).toBe(0);
    expect(JSON.parse(viaCurl.out)).toMatchObject({
      results: [{ streamId: 'orders:1', seq: '3', outcome: 'PUBLISH_OUTCOME_APPENDED' }],
    });
    const viaKafka = await run(kafka as string);
    expect(viaKafka.code, viaKafka.err).toBe(0);
    expect(viaKafka.out).toMatch(
      /^orders:1\tsent to authority\.events\/0@\d+\tkey cli:4\tauthority seq 4\n$/,
    );

    await expect
      .poll(() => tailLines(follower), { timeout: 30_000 })
      .toEqual([
        'orders:1\t1\torder.created.v1\t{"total":42}',
        'orders:1\t2\torder.updated.v1\t{"total":43}',
        'orders:1\t3\torder.updated.v1\t{"total":44}',
        'orders:1\t4\torder.shipped.v1\t{"carrier":"dhl"}',
      ]);
    // Ctrl-C, publish once more, start again: only the new event.
    await interrupt(follower);
    const more = await run(publishMore as string);
    expect(more.code, more.err).toBe(0);
    const resumed = launch(tailAgain as string);
    await expect
      .poll(() => tailLines(resumed), { timeout: 30_000 })
      .toEqual(['orders:1\t5\torder.delivered.v1\t{}']);

    // The kafkajs example, with an envelope built as an authority would.
    const example = blocks.find((b) => b.lang === 'ts')?.script;
    expect(example).toContain('producer.send');
    writeFileSync(
      SNIPPET,
      [
        "import { toBinary } from '@bufbuild/protobuf';",
        "import kafkajs from 'kafkajs';",
        "import { buildEnvelope } from '../../cli/publish/envelope.js';",
        "import { SyncEnvelopeSchema } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';",
        'const { Kafka } = kafkajs;',
        "const envelope = buildEnvelope({ stream: 'orders:1', kind: 'order.paid.v1', payload: new TextEncoder().encode('{\"paid\":true}'), authorityTopic: 'billing', authoritySeq: 6n });",
        example as string,
        'await producer.disconnect();',
      ].join('\n'),
    );
    const snippet = await run(`KAFKA_BROKERS=${local.kafka.brokers.join(',')} node --import tsx ${SNIPPET}`);
    expect(snippet.code, snippet.err).toBe(0);
    await expect
      .poll(() => tailLines(resumed), { timeout: 30_000 })
      .toEqual(['orders:1\t5\torder.delivered.v1\t{}', 'orders:1\t6\torder.paid.v1\t{"paid":true}']);

    // Ctrl-C in terminals 1 and 2: both stop cleanly, the service says so last.
    await interrupt(resumed);
    await interrupt(service);
    expect(service.out).toMatch(/"msg":"stopped"[^\n]*\n$/);
  }, 240_000);
});
