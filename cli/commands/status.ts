/** `spacetime-sync status`: both links of a running service; exit 0 only when it is healthy. */
import type { Command } from 'commander';
import { action } from '../action.js';
import { ExitCode } from '../exit-codes.js';
import { jsonOption, resolveServiceUrl, type UrlOptions, urlOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'status of a running service: exit 0 when SpacetimeDB is connected and Kafka consumes (or is off), 1 otherwise',
    )
    .addOption(urlOption())
    .addOption(jsonOption())
    .action(
      action(async (opts: UrlOptions & { json?: boolean }) => {
        const url = resolveServiceUrl(opts);
        const { toJsonString } = await import('@bufbuild/protobuf');
        const { AdminService, ConnectionState, GetStatusResponseSchema, KafkaState } = await import(
          '../../proto/gen/spacetime_sync/v1/admin_service_pb.js'
        );
        const { calling, serviceClient } = await import('../service-client.js');
        const s = await calling(url, () => serviceClient(AdminService, url).getStatus({}));
        const st = s.spacetimedb;
        const k = s.kafka;
        const healthy =
          st?.state === ConnectionState.CONNECTED &&
          (k?.state === KafkaState.DISABLED ||
            k?.state === KafkaState.CONSUMING ||
            k?.state === KafkaState.PAUSED);
        if (opts.json) console.log(toJsonString(GetStatusResponseSchema, s, { prettySpaces: 2 }));
        else {
          const uptime = s.uptime ? Number(s.uptime.seconds) : 0;
          const lastError = (e: string | undefined) => (e ? `  last error: ${e}` : '');
          console.log(
            [
              `spacetime-sync ${s.version}, up ${uptime} s`,
              `spacetimedb  ${ConnectionState[st?.state ?? 0]?.toLowerCase()}  ${st?.uri}/${st?.database}${st?.embedded ? ' (embedded devhost)' : ''}${lastError(st?.lastError)}`,
              `identity     ${st?.identity || 'not known yet'}`,
              `kafka        ${KafkaState[k?.state ?? 0]?.toLowerCase()}${k?.topics.length ? `  group ${k.groupId}, topics ${k.topics.join(',')}` : ''}${lastError(k?.lastError)}`,
              `protocol     ${s.protocolVersions.map((v) => `${v.major}.${v.minor}`).join(', ')}`,
            ].join('\n'),
          );
        }
        return healthy ? ExitCode.Ok : ExitCode.NotOk;
      }),
    );
}
