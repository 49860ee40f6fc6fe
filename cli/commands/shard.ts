/**
 * `spacetime-sync shard route <stream>…`: the shard each stream is on (the one routing function,
 * moves included). `spacetime-sync shard move <stream> --to <shard>`: plans a move (exit 0, prints
 * the plan); with `--yes` performs it — copy, parity, switch in the moves file, reset on the old
 * shard (../shard-move/move-stream.ts, runbooks/reshard.md). The shards come from SPACETIMEDB_SHARDS
 * (or the local service's), the moves file from `--moves-file` or SPACETIMEDB_SHARD_MOVES_FILE.
 * Exit 1 when the move is refused (the reason is printed), 2 on a usage error, 3 when a shard does
 * not answer.
 */
import { type Command, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { resolveShards, type ShardTarget, type SpacetimeOptions, spacetimeOptions } from '../options.js';

interface MoveOptions extends SpacetimeOptions {
  readonly to: string;
  readonly movesFile?: string;
  readonly yes?: boolean;
}

function shardsOrFail(opts: SpacetimeOptions): ShardTarget[] {
  const shards = resolveShards(opts);
  if (!shards)
    throw new UsageError('not sharded: set SPACETIMEDB_SHARDS (or run a local service with several shards)');
  return shards;
}

async function routeOf(shards: readonly ShardTarget[], stream: string): Promise<string> {
  const { shardMoves } = await import('../../shared/shards/config.js');
  const { shardFor, shardMap } = await import('../../shared/shards/route.js');
  const moves = shardMoves(process.env, (v, m) => new UsageError(`${v}: ${m}`));
  return shardFor(
    shardMap(
      shards.map((s) => s.name),
      moves,
    ),
    stream,
  );
}

export function register(program: Command): void {
  const cmd = program
    .command('shard')
    .description('where streams live over several SpacetimeDB databases, and moving one');
  const route = cmd
    .command('route')
    .description('print the shard of each stream (moves included): `<stream><TAB><shard>`')
    .argument('<stream...>', 'stream ids');
  for (const o of spacetimeOptions()) route.addOption(o);
  route.action(
    action(async (streams: string[], opts: SpacetimeOptions) => {
      const shards = shardsOrFail(opts);
      for (const s of streams) console.log(`${s}\t${await routeOf(shards, s)}`);
      return ExitCode.Ok;
    }),
  );
  const move = cmd
    .command('move')
    .description('plan moving a stream to another shard; --yes performs it (stop the adapters first)')
    .argument('<stream>', 'stream id')
    .addOption(new Option('--to <shard>', 'the shard to move it to').makeOptionMandatory())
    .addOption(
      new Option('--moves-file <file>', 'the moves file to record it in (else SPACETIMEDB_SHARD_MOVES_FILE)'),
    )
    .addOption(new Option('--yes', 'perform the move (without it: print the plan only)'));
  for (const o of spacetimeOptions()) move.addOption(o);
  move.action(
    action(async (stream: string, opts: MoveOptions) => {
      const shards = shardsOrFail(opts);
      const to = shards.find((s) => s.name === opts.to);
      if (!to)
        throw new UsageError(`--to: no shard '${opts.to}' (shards: ${shards.map((s) => s.name).join(', ')})`);
      const movesFile = opts.movesFile ?? process.env.SPACETIMEDB_SHARD_MOVES_FILE?.trim();
      if (!movesFile) throw new UsageError('give --moves-file or set SPACETIMEDB_SHARD_MOVES_FILE');
      const fromName = await routeOf(shards, stream);
      const from = shards.find((s) => s.name === fromName) as ShardTarget;
      const { connectModule } = await import('../spacetime-connection.js');
      const { MoveRefused, performMove, planMove } = await import('../shard-move/move-stream.js');
      const fromConn = await connectModule(from);
      const toConn = await connectModule(to).catch((e: unknown) => {
        fromConn.disconnect();
        throw e;
      });
      const sides = {
        stream,
        from: { name: from.name, conn: fromConn },
        to: { name: to.name, conn: toConn },
      };
      try {
        if (!opts.yes) {
          const { plan } = await planMove(sides);
          console.log(
            `plan: move ${stream} from ${plan.from} to ${plan.to}: copy ${Number(plan.head) - plan.alreadyCopied} of ${plan.head} events, switch at seq ${plan.head + 1n}, reset on ${plan.from} (epoch ${plan.epoch} -> ${plan.epoch + 1n}); run again with --yes to perform it`,
          );
          return ExitCode.Ok;
        }
        await performMove(sides, { movesFile, say: (line) => console.log(line) });
        return ExitCode.Ok;
      } catch (e) {
        if (e instanceof MoveRefused) throw new Error(`refused: ${e.message}`);
        throw new Error(`refused: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        fromConn.disconnect();
        toConn.disconnect();
      }
    }),
  );
}
