/**
 * `spacetime-sync start` when the embedded devhost's worker thread dies while serving (here: past
 * its heap limit, DEVHOST_THREAD_HEAP_MB): the service says so at fatal, stops, and the command
 * exits 1 — a supervisor sees a failed service, never one that looks up but commits nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(KAFKA_|SPACETIMEDB_|SPACETIME_SYNC_|INGEST_|DEVHOST_|LOG_LEVEL)/.test(k),
    ),
  ) as Record<string, string>;
  return { ...clean, SPACETIME_SYNC_STATE_DIR: mkdtempSync(join(tmpdir(), 'start-thread-')), ...extra };
}

/** One Connect JSON publish of 100 events with long idempotency keys (indexed strings on devhost's heap). */
function body(n: number): string {
  const payload = Buffer.from('x');
  const envelopes = Array.from({ length: 100 }, (_, i) => ({
    streamId: `heavy:${n}`,
    idempotencyKey: `${n}-${i}-`.padEnd(250, 'k'),
    kind: 'test.v1',
    payload: payload.toString('base64'),
    payloadHash: createHash('sha256').update(payload).digest('base64'),
    hashAlgorithm: 'HASH_ALGORITHM_SHA256',
    source: { authorityTopic: 'test', authoritySeq: String(i + 1) },
    producedAt: new Date().toISOString(),
    protocolVersion: { major: 1, minor: 0 },
  }));
  return JSON.stringify({ envelopes });
}

describe('spacetime-sync start, devhost on its own thread', () => {
  it('exits 1 with a fatal log line when the devhost thread dies while serving', async () => {
    const env = cleanEnv({ DEVHOST_PORT: '0', INGEST_PORT: '0', DEVHOST_THREAD_HEAP_MB: '48' });
    const child = spawn(process.execPath, [BIN, 'start'], { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let exitCode: number | null | undefined;
    child.once('exit', (code) => {
      exitCode = code;
    });
    // 'close', not 'exit', before reading the output: the last lines can still be in the pipe at 'exit'.
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    await expect.poll(() => out, { timeout: 60_000 }).toContain('"msg":"ready"');
    const http = /ingest \+ \/metrics \/healthz \/readyz on (http:\/\/[\d.:]+)/.exec(out)?.[1];
    const token = spawnSync(process.execPath, [BIN, 'token', '--role', 'publisher', '--streams', '*'], {
      env,
      encoding: 'utf8',
    }).stdout.trim();
    // Publish until the service ends (each answer awaited; refusals and a closed socket are expected).
    for (let n = 1; exitCode === undefined && n < 20_000; n++)
      await fetch(`${http}/spacetime_sync.v1.IngestService/Publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: body(n),
      })
        .then((r) => r.text())
        .catch(() => undefined);
    expect(await exited).toBe(1);
    const fatal = out.split('\n').find((l) => l.includes("the embedded devhost's thread died"));
    expect(fatal).toContain('"level":60');
    expect(out).toContain('"msg":"stopped"');
  }, 300_000);
});
