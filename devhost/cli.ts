/**
 * `spacetime-sync devhost --module <entry.ts> --name <db> [--module … --name …] [--port N] [--data DIR]`
 * runs devhost until SIGTERM/SIGINT; `spacetime-sync devhost generate --module <entry.ts> --out <file>`
 * writes client bindings (the `spacetime generate` stand-in).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeModule, generateBindings } from './codegen/index.js';
import type { FsyncPolicy } from './durability/index.js';
import { startDevhost } from './index.js';

const USAGE = `usage:
  spacetime-sync devhost --module <entry.ts> --name <db> [--module <entry.ts> --name <db> ...]
                         [--port <port>] [--host <host>] [--data <dir>] [--fsync always|never|<ms>]
                         [--print-owner-token]
  spacetime-sync devhost generate --module <entry.ts> --out <bindings.ts>`;

class UsageError extends Error {}

async function generate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { module: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.module || !values.out) throw new UsageError('generate needs --module and --out');
  const code = generateBindings(await describeModule(values.module), {
    source: values.module,
    sdkVersion: '2.10.1',
  });
  writeFileSync(values.out, code);
  console.log(`wrote ${values.out}`);
  return 0;
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      module: { type: 'string', multiple: true },
      name: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      fsync: { type: 'string' },
      'print-owner-token': { type: 'boolean' },
    },
  });
  const modules = values.module ?? [];
  const names = values.name ?? [];
  if (modules.length === 0 || modules.length !== names.length)
    throw new UsageError('give one --name per --module');
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got ${values.port}`);
  const fsync = parseFsync(values.fsync);
  const devhost = await startDevhost({
    ...(fsync ? { fsync } : {}),
    databases: modules.map((moduleEntry, i) => ({ moduleEntry, name: names[i] as string })),
    port,
    ...(values.host ? { host: values.host } : {}),
    ...(values.data ? { dataDir: values.data } : {}),
    log: (level, message) => {
      if (level === 'error' || level === 'warn' || level === 'panic') console.error(`${level}: ${message}`);
    },
  });
  const ws = devhost.url.replace(/^http/, 'ws');
  console.log(`devhost listening on ${ws}`);
  console.log(
    `databases: ${[...devhost.databases.keys()].join(', ')}${values.data ? ` (data in ${values.data})` : ' (in memory)'}`,
  );
  if (values['print-owner-token']) console.log(`owner token: ${devhost.ownerToken}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await devhost.stop();
  return 0;
}

/** `always` fsyncs before a commit counts as durable; `<ms>` groups commits; `never` leaves it to the OS. */
function parseFsync(raw: string | undefined): FsyncPolicy | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'always' || raw === 'never') return raw;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new UsageError(`--fsync must be always, never or a positive number of ms, got ${raw}`);
  return { intervalMs: ms };
}

export async function runDevhostCli(argv: string[]): Promise<number> {
  try {
    if (argv[0] === 'generate') return await generate(argv.slice(1));
    if (argv[0] === '--help' || argv[0] === '-h') {
      console.log(USAGE);
      return 0;
    }
    return await serve(argv);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`spacetime-sync devhost: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
