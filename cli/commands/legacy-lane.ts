/**
 * `spacetime-sync legacy-lane [--port N] [--data DIR]` runs the legacy-lane reference server (the
 * generation-1 Khala lane, legacy/README.md) until SIGTERM/SIGINT, fed from Kafka when KAFKA_BROKERS is
 * set; `spacetime-sync legacy-lane token --topics a,b [...]` prints a token for it and nothing else.
 * The keyring comes from LEGACY_LANE_HS256_KEYS or LEGACY_LANE_HS256_KEYS_FILE, never the command line.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';

function port(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('0..65535 (0 picks a free port)');
  return n;
}

function ttl(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 86_400) throw new InvalidArgumentError('1..86400 seconds');
  return n;
}

function topics(raw: string): string[] {
  const list = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('a comma-separated list of topics');
  return list;
}

/** Settings errors of the lane are the caller's to fix: exit 2. */
async function withLaneConfig<T>(run: () => Promise<T>): Promise<T> {
  const { LaneConfigError } = await import('../../legacy/config.js');
  try {
    return await run();
  } catch (e) {
    if (e instanceof LaneConfigError) throw new UsageError(e.message);
    throw e;
  }
}

export function register(program: Command): void {
  const lane = program
    .command('legacy-lane')
    .description(
      'run the legacy-lane reference server (Phoenix sync:v1 on ws://127.0.0.1:<port>/socket/websocket) until SIGTERM; ' +
        'keyring from LEGACY_LANE_HS256_KEYS or LEGACY_LANE_HS256_KEYS_FILE, topics from LEGACY_LANE_TOPICS, Kafka when KAFKA_BROKERS is set',
    )
    .addOption(
      new Option('--port <port>', 'port to listen on (default LEGACY_LANE_PORT, else a free one)').argParser(
        port,
      ),
    )
    .option('--data <dir>', 'journal directory (default LEGACY_LANE_DATA_DIR, else ./legacy-lane-data)')
    .action(
      action(async (opts: { port?: number; data?: string }) => {
        const { serveLegacyLane } = await import('../../legacy/cli/legacy-lane.js');
        return withLaneConfig(() => serveLegacyLane(opts));
      }),
    );
  lane
    .command('token')
    .description('print a signed legacy-lane token with every required claim (and nothing else)')
    .requiredOption('--topics <a,b>', 'topics the token may read (its oa_sync_scopes)', topics)
    .addOption(new Option('--ttl <seconds>', 'lifetime').argParser(ttl).default(300))
    .option('--sub <sub>', 'subject (default user:local)')
    .option('--session <id>', 'oa_session_id (default a fresh sess_<uuid>)')
    .option('--device <id>', 'oa_device_id (default device_local)')
    .option('--org <id>', 'oa_org_id (default org_local)')
    .action(
      action(
        async (opts: {
          topics: string[];
          ttl: number;
          sub?: string;
          session?: string;
          device?: string;
          org?: string;
        }) => {
          const { legacyLaneToken } = await import('../../legacy/cli/legacy-lane.js');
          const token = await withLaneConfig(() =>
            legacyLaneToken({
              topics: opts.topics,
              ttlSeconds: opts.ttl,
              ...(opts.sub ? { sub: opts.sub } : {}),
              ...(opts.session ? { session: opts.session } : {}),
              ...(opts.device ? { device: opts.device } : {}),
              ...(opts.org ? { org: opts.org } : {}),
            }),
          );
          console.log(token);
          return ExitCode.Ok;
        },
      ),
    );
}
