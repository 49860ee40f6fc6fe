/**
 * `spacetime-sync parity --legacy <ws url> --candidate <uri> --db <name> …`: what a resuming client
 * receives from the legacy lane and from spacetime-sync, compared event by event (parity/, README
 * "Parity with the legacy lane"). Progress on stderr, the summary on stdout, the report in --json.
 * Exit 0 only when the run finished with zero divergence; 1 divergences (or stopped early); 2 usage;
 * 3 a lane refused or is unreachable (bad token, generation-2 endpoint, nothing answers).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type FromEntry,
  type ParityFlags,
  parseDuration,
  parseFromEntry,
  parseList,
  parseRule,
} from '../../parity/cli/options.js';
import type { DocKeyRule } from '../../parity/mapping.js';
import { action } from '../action.js';
import { UsageError } from '../exit-codes.js';

/** commander wants InvalidArgumentError from an option parser. */
function parser<T>(parse: (raw: string, previous: T) => T): (raw: string, previous: T) => T {
  return (raw, previous) => {
    try {
      return parse(raw, previous);
    } catch (e) {
      throw e instanceof UsageError ? new InvalidArgumentError(e.message) : e;
    }
  };
}

const repeat =
  <T>(one: (raw: string) => T) =>
  (raw: string, previous: T[] | undefined): T[] => [...(previous ?? []), one(raw)];

export function register(program: Command): void {
  program
    .command('parity')
    .description(
      'compare what a resuming client receives from the legacy lane (gen 1) and from spacetime-sync, event by event',
    )
    .requiredOption('--legacy <url>', 'the legacy lane websocket, e.g. ws://127.0.0.1:4000/socket/websocket')
    .option(
      '--candidate <uri>',
      'SpacetimeDB (or devhost) address holding the sync module (else SPACETIMEDB_URI, else the local service)',
    )
    .option('--db <name>', 'the database name (else SPACETIMEDB_DB, else the local one / spacetime-sync)')
    .addOption(
      new Option('--topics <t1,t2>', 'legacy topics to subscribe (default: the four gen-1 topics)').argParser(
        parser(parseList),
      ),
    )
    .addOption(
      new Option(
        '--streams <s1,s2>',
        'streams to follow (default: every stream the token may read, at start)',
      ).argParser(parser(parseList)),
    )
    .addOption(
      new Option(
        '--from <lane:name=n>',
        'resume point, repeatable: legacy:<topic>=<watermark> or candidate:<stream>=<seq> (default: the start)',
      ).argParser(parser(repeat<FromEntry>(parseFromEntry))),
    )
    .addOption(
      new Option('--duration <time>', 'collect (replay, then live tail) this long (default 30s)').argParser(
        parser(parseDuration),
      ),
    )
    .addOption(
      new Option(
        '--settle <time>',
        'then wait at most this long for the lanes to agree (default 10s)',
      ).argParser(parser(parseDuration)),
    )
    .option('--json <file>', 'write the JSON report (schema spacetime-sync.parity.v1) to this file')
    .addOption(
      new Option(
        '--volatile-field <name>',
        'top-level payload key ignored when comparing, repeatable (default: projected_at)',
      ).argParser(repeat<string>((s) => s)),
    )
    .option(
      '--no-gen1-doc-keys',
      'name every document by its stream id (default: worker events as the gen-1 lane did, runtime/codex_worker_event:<w>:<seq>)',
    )
    .addOption(
      new Option(
        '--doc-key-rule <rule>',
        'doc_key ↔ stream rule for one topic, repeatable: <topic>=<doc_key prefix>|<stream prefix>[|per-version]',
      ).argParser(parser(repeat<DocKeyRule>(parseRule))),
    )
    .option('--legacy-token-file <file>', 'file holding the legacy lane token (else LEGACY_LANE_TOKEN)')
    .option(
      '--token-file <file>',
      'file holding the SpacetimeDB token (else SPACETIMEDB_TOKEN, else the local owner token)',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 no divergence; 1 divergences found or stopped early; 2 usage; 3 a lane refused or is unreachable.',
    )
    .action(
      action(async (flags: ParityFlags) => {
        const { resolveParityArgs } = await import('../../parity/cli/options.js');
        const { runParityCommand } = await import('../../parity/cli/run.js');
        return runParityCommand(resolveParityArgs(flags));
      }),
    );
}
