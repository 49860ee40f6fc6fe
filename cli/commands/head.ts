/** `spacetime-sync head <stream>`: a stream's head, low watermark and epoch; exit 1 if never written. */
import type { Command } from 'commander';
import { action } from '../action.js';
import { ExitCode } from '../exit-codes.js';
import { jsonOption, resolveServiceUrl, type UrlOptions, urlOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('head')
    .description(
      "a stream's head seq, low watermark, epoch and last authority seq (exit 1 for a stream never written)",
    )
    .argument('<stream>', 'stream id')
    .addOption(urlOption())
    .addOption(jsonOption())
    .action(
      action(async (stream: string, opts: UrlOptions & { json?: boolean }) => {
        const url = resolveServiceUrl(opts);
        const { toJsonString } = await import('@bufbuild/protobuf');
        const { AdminService, GetStreamHeadResponseSchema } = await import(
          '../../proto/gen/spacetime_sync/v1/admin_service_pb.js'
        );
        const { calling, serviceClient } = await import('../service-client.js');
        const h = await calling(url, () =>
          serviceClient(AdminService, url).getStreamHead({ streamId: stream }),
        );
        console.log(
          opts.json
            ? toJsonString(GetStreamHeadResponseSchema, h, { prettySpaces: 2 })
            : `${h.streamId}  head ${h.headSeq}  low watermark ${h.lowWatermark}  epoch ${h.epoch}  authority seq ${h.lastSourceSeq}`,
        );
        return ExitCode.Ok;
      }),
    );
}
