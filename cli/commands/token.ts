/**
 * `spacetime-sync token`: mints a token of the local issuer (the key `npm start` created in the state
 * dir) and prints just the token, for curl and scripts on this machine:
 * `curl -H "authorization: Bearer $(npx spacetime-sync token --role publisher --streams orders:)" …`.
 * Tokens for services elsewhere come from their configured issuers, not from here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { stateDir } from '../../shared/state-dir.js';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { readLocalService } from '../local-service.js';

const ROLES = ['publisher', 'operator', 'admin', 'token_issuer', 'client'] as const;
type Role = (typeof ROLES)[number];
const MAX_TTL_S = 24 * 3600;

const commaList = (v: string, previous: string[] = []) => [
  ...previous,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

function ttl(v: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(v.trim());
  const s = m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'] : Number.NaN;
  if (!Number.isInteger(s) || s < 1 || s > MAX_TTL_S)
    throw new InvalidArgumentError(`'${v}' is not a lifetime from 1s to 24h (e.g. 90s, 15m, 2h)`);
  return s;
}

interface Options {
  readonly role: string[];
  readonly streams?: string[];
  readonly topics?: string[];
  readonly ttl: number;
  readonly subject?: string;
}

export function register(program: Command): void {
  program
    .command('token')
    .description(
      "print a token of this machine's local issuer (created by `npm start`) for the local service, and nothing else",
    )
    .addOption(
      new Option(
        '--role <roles>',
        'publisher, operator, admin, token_issuer or client (comma-separated or repeated)',
      )
        .argParser(commaList)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--streams <prefixes>',
        "stream-id prefixes a publisher may write, e.g. 'orders:' ('*' = all)",
      ).argParser(commaList),
    )
    .addOption(new Option('--topics <topics>', 'authority topics a publisher may write').argParser(commaList))
    .addOption(new Option('--ttl <duration>', 'lifetime, up to 24h').argParser(ttl).default(900, '15m'))
    .addOption(
      new Option(
        '--subject <name>',
        "the token's sub (who it is for, shown in the service's logs; a client's device id, the id it may route)",
      ),
    )
    .action(
      action(async (opts: Options) => {
        for (const r of opts.role)
          if (!(ROLES as readonly string[]).includes(r))
            throw new UsageError(`--role '${r}' is not one of ${ROLES.join(', ')}`);
        if (opts.role.includes('publisher') && !opts.streams?.length && !opts.topics?.length)
          throw new UsageError('a publisher token needs --streams or --topics (its scope)');
        if (opts.role.includes('client') && !opts.subject)
          throw new UsageError('a client token needs --subject, the device id it may route');
        const local = readLocalService()?.auth;
        const keyFile =
          local?.keyFile ??
          (process.env.AUTH_LOCAL_ISSUER_KEY_FILE?.trim() || join(stateDir(), 'local-issuer.pem'));
        if (!existsSync(keyFile))
          throw new UsageError(
            `no local issuer key at ${keyFile}: start the service on this machine first (\`npm start\`)`,
          );
        const { mintLocalToken, readLocalIssuerKey } = await import('../../adapter/auth/local-issuer.js');
        const token = await mintLocalToken(readLocalIssuerKey(keyFile), {
          roles: opts.role as Role[],
          ttlS: opts.ttl,
          ...(opts.streams ? { streams: opts.streams } : {}),
          ...(opts.topics ? { topics: opts.topics } : {}),
          ...(opts.subject ? { subject: opts.subject } : {}),
          audience: local?.audience ?? (process.env.AUTH_AUDIENCE?.trim() || undefined),
        });
        process.stdout.write(`${token}\n`);
        return ExitCode.Ok;
      }),
    );
}
