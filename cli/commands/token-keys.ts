/**
 * `spacetime-sync token-keys list|rotate|retire`: the service's client-token issuer keys
 * (adapter/tokens/issuer-key-set.ts). `rotate` makes a new current key and keeps the old one as
 * previous, so tokens it signed keep verifying; `retire` removes the previous key, after which
 * SpacetimeDB refuses its tokens (once it fetched the JWKS again). A running service picks the change
 * up without a restart. Prints key ids and dates only, never a key.
 *
 * Exit: 0 done; 1 refused (no previous key to retire, or one whose tokens may still be valid without
 * `--now`; a damaged key file); 2 usage (no key set at the path).
 */
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { stateDir } from '../../shared/state-dir.js';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';

interface Opts {
  readonly keysFile?: string;
  readonly json?: boolean;
  readonly now?: boolean;
}

type Summary = import('../../adapter/tokens/issuer-key-set.js').KeySetSummary;

const keysFileOption = () =>
  new Option(
    '--keys-file <file>',
    'the key set (default: CLIENT_TOKEN_KEYS_FILE, else client-token-keys.json in the state dir)',
  );

function keysFile(opts: Opts): string {
  return (
    opts.keysFile ??
    (process.env.CLIENT_TOKEN_KEYS_FILE?.trim() || join(stateDir(), 'client-token-keys.json'))
  );
}

async function load() {
  return import('../../adapter/tokens/issuer-key-set.js');
}

/** The current set, or a usage error naming the path when there is none. */
async function existing(file: string): Promise<Summary> {
  const { describeKeySet } = await load();
  try {
    return describeKeySet(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(
        `no key set at ${file}: the service creates it on first start (or pass --keys-file)`,
      );
    throw e;
  }
}

function print(s: Summary, opts: Opts): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  const lines = [`current  ${s.current.kid}  since ${s.current.createdAt}`];
  if (s.previous) lines.push(`previous ${s.previous.kid}  since ${s.previous.createdAt}`);
  if (s.retired) lines.push(`retired  ${s.retired}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Refuses to cut off tokens the previous key may have signed that are still valid, unless --now. */
async function guardPrevious(s: Summary, opts: Opts, what: string): Promise<void> {
  const { previousKeyTokensValidUntil } = await load();
  const { CLIENT_TOKEN_TTL_S } = await import('../../adapter/tokens/mint.js');
  const until = previousKeyTokensValidUntil(s, CLIENT_TOKEN_TTL_S.max);
  if (until && until.getTime() > Date.now() && !opts.now)
    throw new Error(
      `${what} would refuse tokens of key ${s.previous?.kid} that may be valid until ${until.toISOString()}; ` +
        'wait until then, or pass --now to cut them off (e.g. a compromised key)',
    );
}

export function register(program: Command): void {
  const keys = program
    .command('token-keys')
    .description("the service's client-token issuer keys: list, rotate, retire (two keys active at most)");
  keys
    .command('list')
    .description('the current key and, after a rotation, the previous one (ids and dates)')
    .addOption(keysFileOption())
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: Opts) => {
        print(await existing(keysFile(opts)), opts);
        return ExitCode.Ok;
      }),
    );
  keys
    .command('rotate')
    .description('a new current key signs from now on; the old one stays as previous and keeps verifying')
    .addOption(keysFileOption())
    .option('--now', 'also when this retires a previous key whose tokens may still be valid')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: Opts) => {
        const file = keysFile(opts);
        await guardPrevious(await existing(file), opts, 'rotating again');
        const { rotateKeySet } = await load();
        print(await rotateKeySet(file), opts);
        return ExitCode.Ok;
      }),
    );
  keys
    .command('retire')
    .description('remove the previous key: tokens it signed are refused from now on')
    .addOption(keysFileOption())
    .option('--now', 'even if tokens it signed may still be valid')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: Opts) => {
        const file = keysFile(opts);
        const s = await existing(file);
        if (!s.previous) throw new Error(`no previous key to retire in ${file}`);
        await guardPrevious(s, opts, 'retiring');
        const { retirePreviousKey } = await load();
        const after = await retirePreviousKey(file);
        if (after) print(after, opts);
        return ExitCode.Ok;
      }),
    );
}
