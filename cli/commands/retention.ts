/**
 * `spacetime-sync retention <stream> [--keep N] [--compact-by-key|--no-compact-by-key]`: a stream's
 * retention policy, shown, or set through the module's `configure_stream` (a writer's token). Too
 * small a `keep` for how far behind clients are makes every compaction drop history a client still
 * points into: the stream's epoch moves and its followers rebootstrap (runbooks/rebootstrap-storm.md).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode } from '../exit-codes.js';
import { resolveSpacetime, type SpacetimeOptions, spacetimeOptions } from '../options.js';

function wholeNumber(v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`a whole number, got '${v}'`);
  return BigInt(v);
}

type Flags = SpacetimeOptions & { keep?: bigint; compactByKey?: boolean };

export function register(program: Command): void {
  const cmd = program
    .command('retention')
    .description(
      "show a stream's retention policy, or set it with --keep (0 keeps everything); exit 1 for an unknown stream or a refusal",
    )
    .argument('<stream>', 'stream id')
    .addOption(
      new Option('--keep <n>', 'keep at least the newest n events (0: keep all)').argParser(wholeNumber),
    )
    .option('--compact-by-key', 'below the kept window, keep the newest event per compaction key')
    .option('--no-compact-by-key', 'below the kept window, keep nothing');
  for (const o of spacetimeOptions()) cmd.addOption(o);
  cmd.action(
    action(async (stream: string, opts: Flags) => {
      const { connectModule } = await import('../spacetime-connection.js');
      const conn = await connectModule(resolveSpacetime(opts, stream));
      try {
        const row = async () => {
          const q = `SELECT * FROM sync_stream WHERE stream_id = '${stream.replaceAll("'", "''")}'`;
          await new Promise<void>((resolve, reject) => {
            conn
              .subscriptionBuilder()
              .onApplied(() => resolve())
              .onError((ctx) => reject(new Error(String(ctx.event ?? 'subscription failed'))))
              .subscribe([q]);
          });
          return conn.db.syncStream.streamId.find(stream);
        };
        const before = await row();
        if (!before) {
          console.error(`retention: no stream '${stream}' (or this identity may not read it)`);
          return ExitCode.NotOk;
        }
        let s = before;
        if (opts.keep !== undefined || opts.compactByKey !== undefined) {
          try {
            await conn.reducers.configureStream({
              streamId: stream,
              retainMinEvents: opts.keep ?? before.retainMinEvents,
              compactByKey: opts.compactByKey ?? before.compactByKey,
            });
          } catch (e) {
            console.error(`retention: refused: ${e instanceof Error ? e.message : String(e)}`);
            return ExitCode.NotOk;
          }
          s = conn.db.syncStream.streamId.find(stream) ?? before;
        }
        const keep = s.retainMinEvents === 0n ? 'all events' : `newest ${s.retainMinEvents} events`;
        console.log(
          `${stream}  keep ${keep}  compact by key ${s.compactByKey ? 'yes' : 'no'}  head ${s.headSeq}  low watermark ${s.lowWatermark}  epoch ${s.epoch}`,
        );
        return ExitCode.Ok;
      } finally {
        conn.disconnect();
      }
    }),
  );
}
