/**
 * `spacetime-sync grant|revoke writer <identity>` and `… reader <identity> --stream S…`: who may
 * write to the sync module and which streams a desktop identity may read. Runs as a writer (the
 * local owner token by default; see options.ts for where tokens come from). Granting twice is a no-op.
 * Shared by grant.ts and revoke.ts, which differ only in the verb.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode } from '../exit-codes.js';
import { resolveSpacetime, type SpacetimeOptions, spacetimeOptions } from '../options.js';

export type Verb = 'grant' | 'revoke';

const IDENTITY = /^(0x)?[0-9a-fA-F]{64}$/;

function identityArg(v: string): string {
  if (!IDENTITY.test(v))
    throw new InvalidArgumentError('not an identity (64 hex digits, as `spacetime-sync status` prints it)');
  return v;
}

function withTarget(cmd: Command): Command {
  for (const o of spacetimeOptions()) cmd.addOption(o);
  return cmd;
}

async function apply(
  verb: Verb,
  who: string,
  opts: SpacetimeOptions,
  /** The stream the grant is about: it goes to that stream's shard (../options.ts). */
  streamId: string | undefined,
  call: (
    reducers: import('../../module/bindings/index.js').DbConnection['reducers'],
    identity: import('spacetimedb').Identity,
  ) => Promise<void>,
  what: string,
): Promise<number> {
  const target = resolveSpacetime(opts, streamId);
  const { Identity } = await import('spacetimedb');
  const { connectModule } = await import('../spacetime-connection.js');
  const identity = Identity.fromString(who);
  const conn = await connectModule(target);
  try {
    await call(conn.reducers, identity);
  } catch (e) {
    throw new Error(`refused: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    conn.disconnect();
  }
  console.log(
    `${verb === 'grant' ? 'granted' : 'revoked'} ${what} ${verb === 'grant' ? 'to' : 'from'} ${identity.toHexString()}`,
  );
  return ExitCode.Ok;
}

export function registerAccess(program: Command, verb: Verb): void {
  const cmd = program
    .command(verb)
    .description(
      verb === 'grant'
        ? 'let an identity write to the sync module, or read streams (exit 1 when the module refuses)'
        : 'take write access or stream read access away from an identity (exit 1 when the module refuses)',
    );
  withTarget(
    cmd
      .command('writer')
      .description(
        verb === 'grant' ? 'let <identity> append events and manage streams' : 'stop <identity> from writing',
      )
      .argument('<identity>', 'hex identity', identityArg),
  )
    .addOption(new Option('--label <label>', 'who this writer is, for the writer table').default(''))
    .action(
      action(async (who: string, opts: SpacetimeOptions & { label: string }) =>
        apply(
          verb,
          who,
          opts,
          undefined,
          (r, identity) =>
            verb === 'grant' ? r.grantWriter({ identity, label: opts.label }) : r.revokeWriter({ identity }),
          'write access',
        ),
      ),
    );
  withTarget(
    cmd
      .command('reader')
      .description(
        verb === 'grant'
          ? 'let <identity> read the given streams'
          : 'stop <identity> reading the given streams',
      )
      .argument('<identity>', 'hex identity', identityArg),
  )
    .requiredOption('--stream <stream...>', 'stream ids')
    .action(
      action(async (who: string, opts: SpacetimeOptions & { stream: string[] }) => {
        // One stream at a time: on a sharded deployment each goes to its own stream's shard.
        for (const streamId of opts.stream) {
          await apply(
            verb,
            who,
            opts,
            streamId,
            (r, reader) =>
              verb === 'grant'
                ? r.grantStreamRead({ reader, streamId })
                : r.revokeStreamRead({ reader, streamId }),
            `read access to ${streamId}`,
          );
        }
        return ExitCode.Ok;
      }),
    );
}
