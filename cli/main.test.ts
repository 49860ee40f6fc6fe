/**
 * The CLI's contract without a service: every command and subcommand answers --help with exit 0,
 * and command-line mistakes, bad URLs and addresses that are not the service get their exit codes.
 */

import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, main } from './main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    output: { writeOut: (s: string) => out.push(s), writeErr: (s: string) => err.push(s) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** Every command path, e.g. ['grant', 'reader']. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const ENV_KEYS = ['SPACETIME_SYNC_URL', 'SPACETIMEDB_URI', 'SPACETIMEDB_DB', 'SPACETIMEDB_TOKEN'];
beforeEach(() => {
  // No local service and none of the caller's settings: each case says what it sets.
  vi.stubEnv('SPACETIME_SYNC_STATE_DIR', mkdtempSync(join(tmpdir(), 'cli-state-')));
  for (const k of ENV_KEYS) vi.stubEnv(k, '');
  return () => vi.unstubAllEnvs();
});

describe('spacetime-sync --help', () => {
  const paths = commandPaths(buildProgram());

  it('lists every command with the exit codes', async () => {
    const io = capture();
    expect(await main(['--help'], io.output)).toBe(0);
    for (const name of buildProgram().commands.map((c) => c.name())) expect(io.out()).toContain(name);
    expect(io.out()).toMatch(/3 +unreachable/);
  });

  it('covers the commands the README documents', () => {
    const top = paths.filter((p) => p.length === 1).map((p) => p[0]);
    for (const name of ['start', 'tail', 'status', 'head', 'lag', 'grant', 'revoke', 'dlq-replay', 'devhost'])
      expect(top).toContain(name);
  });

  it.each(paths.filter((p) => p.at(-1) !== 'help').map((p) => [p.join(' '), p]))(
    '%s --help prints its usage and exits 0',
    async (_name, path) => {
      const io = capture();
      expect(await main([...path, '--help'], io.output)).toBe(0);
      expect(io.out()).toContain(`Usage: spacetime-sync ${path.join(' ')}`);
      expect(io.err()).toBe('');
    },
  );
});

describe('exit codes', () => {
  let notTheService: Server;
  let notTheServiceUrl: string;
  beforeAll(async () => {
    // Something that answers HTTP at the address, but is not spacetime-sync.
    notTheService = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'),
    );
    await new Promise<void>((r) => notTheService.listen(0, '127.0.0.1', r));
    notTheServiceUrl = `http://127.0.0.1:${(notTheService.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => notTheService.close(() => r())));

  it('2 without a command, for an unknown command, an unknown flag or a missing argument', async () => {
    for (const argv of [
      [],
      ['frobnicate'],
      ['status', '--frob'],
      ['head'],
      ['grant'],
      ['lag', '--max', 'x'],
    ]) {
      const io = capture();
      expect(await main(argv, io.output), argv.join(' ')).toBe(2);
      expect(io.err(), argv.join(' ')).not.toBe('');
    }
  });

  it('2 for an invalid URL, on the command line or in the environment', async () => {
    const io = capture();
    expect(await main(['status', '--url', 'not a url'], io.output)).toBe(2);
    expect(io.err()).toContain("'not a url' is not a URL");
    expect(await main(['status', '--url', 'ftp://127.0.0.1:8080'], capture().output)).toBe(2);
    vi.stubEnv('SPACETIME_SYNC_URL', 'localhost:8080');
    const env = capture();
    expect(await main(['head', 'orders:1'], env.output)).toBe(2);
    expect(env.err()).toContain('SPACETIME_SYNC_URL');
  });

  it('2 for an identity that is not one, before connecting anywhere', async () => {
    const io = capture();
    expect(await main(['grant', 'writer', 'alice'], io.output)).toBe(2);
    expect(io.err()).toContain('not an identity');
  });

  it('3 when nothing answers at the address', async () => {
    const io = capture();
    // Port 1 on loopback: nothing listens there.
    expect(await main(['status', '--url', 'http://127.0.0.1:1'], io.output)).toBe(3);
    expect(io.err()).toContain('no spacetime-sync answers at http://127.0.0.1:1');
  });

  it('3, not 1, when what answers is not spacetime-sync', async () => {
    for (const argv of [['status'], ['head', 'orders:1'], ['lag', '--max', '0']]) {
      const io = capture();
      expect(await main([...argv, '--url', notTheServiceUrl], io.output), argv.join(' ')).toBe(3);
      expect(io.err()).toContain(`no spacetime-sync answers at ${notTheServiceUrl}`);
    }
  });
});
