/**
 * `spacetime-sync devhost --module <entry.ts> --name <db> […]` runs devhost (the SpacetimeDB-compatible
 * host) on its own until SIGTERM/SIGINT; `spacetime-sync devhost generate` writes a module's client
 * bindings folder with the project's one generator (devhost/codegen, as `spacetime generate` does). devhost is loaded only when one of them runs.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { PREBUILT_SYNC_MODULE, SYNC_MODULE_ENTRY } from '../../adapter/embedded-devhost.js';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';

type Fsync = 'always' | 'never' | { intervalMs: number };

function fsyncPolicy(raw: string): Fsync {
  if (raw === 'always' || raw === 'never') return raw;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new InvalidArgumentError('always, never or a positive number of ms');
  return { intervalMs: ms };
}

function port(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('0..65535 (0 picks a free port)');
  return n;
}

interface ServeOptions {
  readonly module?: string[];
  readonly name?: string[];
  readonly port: number;
  readonly host?: string;
  readonly data?: string;
  readonly fsync?: Fsync;
  readonly ownerTokenFile?: string;
  readonly truncateCorrupt?: boolean;
}

export function register(program: Command): void {
  const devhost = program
    .command('devhost')
    .description('run the SpacetimeDB-compatible dev host with the given modules until SIGTERM/SIGINT')
    .option('--module <entry...>', 'module entry file(s) (TypeScript), one per --name (required)')
    .option('--name <db...>', 'database name(s), one per --module (required)')
    .addOption(new Option('--port <port>', 'port to listen on').argParser(port).default(0, 'a free one'))
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--data <dir>', 'keep databases in this directory (default: memory only)')
    .addOption(
      new Option(
        '--fsync <policy>',
        'always (default: group commit, an fsync as soon as none runs) | never | <ms> (a timer)',
      ).argParser(fsyncPolicy),
    )
    .option('--owner-token-file <file>', 'write the owner token to this file (mode 0600)')
    .option(
      '--truncate-corrupt',
      'operator override: cut a commit log damaged in the middle at the damage (the cut is logged and kept aside; a module with note_history_cut moves its streams to a new epoch) instead of refusing to start',
    )
    .action(
      action(async (opts: ServeOptions) => {
        // Not commander's requiredOption: that would also demand them of `devhost generate`.
        const modules = opts.module ?? [];
        const names = opts.name ?? [];
        if (modules.length === 0 || modules.length !== names.length)
          throw new UsageError('give --module <entry> --name <db>, one --name per --module');
        const { startDevhost } = await import('@spacetime-sync/devhost');
        const host = await startDevhost({
          ...(opts.fsync ? { fsync: opts.fsync } : {}),
          databases: modules.map((moduleEntry, i) => ({
            moduleEntry,
            name: names[i] as string,
            // The sync module as `npm run build` bundled it, while fresh: a (re)start needs no bundler.
            ...(resolve(moduleEntry) === SYNC_MODULE_ENTRY ? { prebuilt: PREBUILT_SYNC_MODULE } : {}),
          })),
          port: opts.port,
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.data ? { dataDir: opts.data } : {}),
          ...(opts.truncateCorrupt ? { truncateCorrupt: true } : {}),
          log: (level, message) => {
            if (level === 'error' || level === 'warn' || level === 'panic')
              console.error(`${level}: ${message}`);
          },
        });
        console.log(`devhost listening on ${host.url.replace(/^http/, 'ws')}`);
        console.log(
          `databases: ${[...host.databases.keys()].join(', ')}${opts.data ? ` (data in ${opts.data})` : ' (in memory)'}`,
        );
        if (opts.ownerTokenFile) {
          writeFileSync(opts.ownerTokenFile, `${host.ownerToken}\n`, { mode: 0o600 });
          console.log(`owner token in ${opts.ownerTokenFile}`);
        }
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
        await host.stop();
        return ExitCode.Ok;
      }),
    );
  devhost
    .command('generate')
    .description(
      "write a module's TypeScript client bindings folder, as `spacetime generate --lang typescript` does",
    )
    .requiredOption('--module <entry>', 'module entry file')
    .requiredOption(
      '--out-dir <dir>',
      'bindings folder to write (files it wrote before and no longer needs are removed)',
    )
    .option(
      '--include-private',
      'keep private tables and private reducers (as `spacetime generate --include-private`)',
    )
    .action(
      action(async (opts: { module: string; outDir: string; includePrivate?: boolean }) => {
        const { renderBindings, syncBindingsDir } = await import('@spacetime-sync/devhost');
        const files = await renderBindings(opts.module, opts.includePrivate ? 'includePrivate' : 'public');
        const changed = syncBindingsDir(opts.outDir, files, false);
        console.log(`${opts.outDir}: ${changed.length === 0 ? 'up to date' : `wrote ${changed.join(', ')}`}`);
        return ExitCode.Ok;
      }),
    );
}
