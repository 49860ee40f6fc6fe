import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const FLOOD = new URL('./testing/flood-then-exit.ts', import.meta.url).pathname;
const LOG = new URL('./testing/log-then-exit.ts', import.meta.url).pathname;

describe('a command ending its process', () => {
  it.each([0, 1, 3])(
    'exits with %i only after a slow reader got all of its output (process.exit alone dropped the rest)',
    async (exitCode) => {
      const child = spawn(process.execPath, ['--import', 'tsx', FLOOD, String(exitCode)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Not read until the child has queued all 1,000,000 bytes: far more than the pipe holds, so
      // most of it still sits in the child when it asks to exit.
      child.stdout.pause();
      let got = 0;
      child.stdout.on('data', (d: Buffer) => {
        got += d.length;
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('queued')) child.stdout.resume();
      });
      const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
      expect(code).toBe(exitCode);
      expect(got).toBe(1_000_000);
    },
    60_000,
  );

  it("writes every log line in order before it exits, though libuv's pool is busy at the end", async () => {
    // The service logs 'stopping' and 'stopped' while devhost's commit-log fsyncs occupy the pool;
    // logger writes queued there came out after 'stopped' or not at all (start.test.ts, 3 of 15 runs).
    const child = spawn(process.execPath, ['--import', 'tsx', LOG, '100'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    expect(code).toBe(0);
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; i?: number });
    expect(records.map((r) => r.i ?? r.msg)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => i),
      'stopping',
      'stopped',
    ]);
  }, 60_000);
});
