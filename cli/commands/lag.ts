/** `spacetime-sync lag [<stream>…] [--max N]`: Kafka partition lag and per-stream sequence lag. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode } from '../exit-codes.js';
import { jsonOption, resolveServiceUrl, type UrlOptions, urlOption } from '../options.js';

function wholeNumber(v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`a whole number, got '${v}'`);
  return BigInt(v);
}

export function register(program: Command): void {
  program
    .command('lag')
    .description(
      'Kafka partition lag and per-stream authority-seq lag; with --max, exit 1 when anything lags more',
    )
    .argument('[streams...]', 'streams whose sequence lag to report')
    .addOption(
      new Option('--max <n>', 'exit 1 when any partition or stream lags more than n').argParser(wholeNumber),
    )
    .addOption(urlOption())
    .addOption(jsonOption())
    .action(
      action(async (streams: string[], opts: UrlOptions & { json?: boolean; max?: bigint }) => {
        const url = resolveServiceUrl(opts);
        const { toJsonString } = await import('@bufbuild/protobuf');
        const { AdminService, GetLagResponseSchema } = await import(
          '../../proto/gen/spacetime_sync/v1/admin_service_pb.js'
        );
        const { calling, serviceClient } = await import('../service-client.js');
        const l = await calling(url, () => serviceClient(AdminService, url).getLag({ streamIds: streams }));
        if (opts.json) console.log(toJsonString(GetLagResponseSchema, l, { prettySpaces: 2 }));
        else {
          const text = [
            ...l.partitions.map(
              (p) =>
                `partition ${p.topic}/${p.partition}  committed ${p.committedOffset}  end ${p.endOffset}  lag ${p.lag}`,
            ),
            ...l.streams.map(
              (s) =>
                `stream ${s.streamId}  appended ${s.lastSourceSeq}  seen ${s.latestSourceSeq}  lag ${s.sequenceLag}`,
            ),
          ];
          console.log(text.length ? text.join('\n') : 'no Kafka partitions and no streams asked for');
        }
        const max = opts.max;
        if (max === undefined) return ExitCode.Ok;
        const behind = l.partitions.some((p) => p.lag > max) || l.streams.some((s) => s.sequenceLag > max);
        return behind ? ExitCode.NotOk : ExitCode.Ok;
      }),
    );
}
