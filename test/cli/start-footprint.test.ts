/**
 * `spacetime-sync start` loads what its configuration uses and nothing else: without Kafka, relays
 * or the legacy lane, and logging JSON, none of kafkajs, nostr-tools (and its curves), pino-pretty or
 * esbuild (the sync module comes prebuilt from dist/) is loaded. Seen from outside, through a
 * resolve hook in the child that lists every npm package it imports.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/spacetime-sync.js', import.meta.url).pathname;

/** Files for `node --import`: registers a resolve hook appending each npm package's name to `log`. */
function packageListHook(dir: string, log: string): string {
  const hook = join(dir, 'hook.mjs');
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';
const seen = new Set();
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const name = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(resolved.url)?.[1];
  if (name && !seen.has(name)) {
    seen.add(name);
    appendFileSync(${JSON.stringify(log)}, name + '\\n');
  }
  return resolved;
}
`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
  );
  return register;
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(KAFKA_|SPACETIMEDB_|SPACETIME_SYNC_|INGEST_|DEVHOST_|LOG_LEVEL|BRIDGE_|LEGACY_)/.test(k),
    ),
  ) as Record<string, string>;
  return { ...clean, ...extra };
}

describe('spacetime-sync start footprint', () => {
  it('on embedded defaults loads no Kafka client, Nostr library, pretty printer or bundler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-footprint-'));
    const log = join(dir, 'packages.txt');
    writeFileSync(log, '');
    const env = cleanEnv({
      SPACETIME_SYNC_STATE_DIR: join(dir, 'state'),
      DEVHOST_PORT: '0',
      INGEST_PORT: '0',
      PROBE_INTERVAL_MS: '0',
    });
    const child = spawn(process.execPath, ['--import', packageListHook(dir, log), BIN, 'start'], { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await expect.poll(() => out, { timeout: 60_000 }).toContain('"msg":"ready"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // A warning here would mean the module was bundled at start (dist/'s bundle stale or missing).
    expect(out).not.toContain('bundling the module now');
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    // The hook saw the packages the service does use…
    expect(loaded).toEqual(expect.arrayContaining(['spacetimedb', 'pino', '@connectrpc/connect']));
    // …and none of those this configuration has no use for.
    for (const unused of ['kafkajs', 'nostr-tools', '@noble/curves', 'pino-pretty', 'esbuild'])
      expect(loaded).not.toContain(unused);
  }, 90_000);
});
