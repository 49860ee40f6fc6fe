/**
 * Operator commands over the AdminService of a running spacetime-sync (`--url`, or
 * SPACETIME_SYNC_URL, default http://127.0.0.1:8080):
 *
 *   spacetime-sync status [--json]             exit 0 when SpacetimeDB is connected and Kafka is
 *                                              consuming (or off); 1 otherwise
 *   spacetime-sync head <stream> [--json]      exit 1 for a stream never written
 *   spacetime-sync lag [<stream> ...] [--json] [--max <n>]
 *                                              exit 1 when any partition or stream lags more than n
 *
 * Exit 2 for usage errors, 3 when the service cannot be reached.
 */
import { parseArgs } from 'node:util';
import { type DescMessage, type MessageShape, toJsonString } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import {
  AdminService,
  ConnectionState,
  GetLagResponseSchema,
  GetStatusResponseSchema,
  GetStreamHeadResponseSchema,
  KafkaState,
} from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { ErrorInfoSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';

interface Parsed {
  readonly url: string;
  readonly json: boolean;
  readonly max?: bigint;
  readonly positionals: string[];
}

function parse(command: string, argv: string[], withMax = false): Parsed | undefined {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        json: { type: 'boolean' },
        ...(withMax ? { max: { type: 'string' as const } } : {}),
      },
    });
    const max = (values as { max?: string }).max;
    if (max !== undefined && !/^\d+$/.test(max))
      throw new Error(`--max must be a whole number, got '${max}'`);
    return {
      url: values.url ?? process.env.SPACETIME_SYNC_URL?.trim() ?? DEFAULT_URL,
      json: values.json === true,
      ...(max !== undefined ? { max: BigInt(max) } : {}),
      positionals,
    };
  } catch (e) {
    console.error(`spacetime-sync ${command}: ${(e as Error).message}`);
    return undefined;
  }
}

function admin(url: string) {
  return createClient(AdminService, createConnectTransport({ baseUrl: url, httpVersion: '1.1' }));
}

/** Runs `call`; a service that cannot be reached is exit 3, a typed refusal exit 1, with the reason. */
async function calling(command: string, url: string, call: () => Promise<number>): Promise<number> {
  try {
    return await call();
  } catch (e) {
    const err = ConnectError.from(e);
    // The service answers its own refusals with ErrorInfo (e.g. Kafka unavailable behind it); an
    // Unavailable without it came from the transport: nothing answered at the address.
    if (err.code === Code.Unavailable && err.findDetails(ErrorInfoSchema).length === 0) {
      console.error(`spacetime-sync ${command}: no spacetime-sync answers at ${url} (${err.rawMessage})`);
      return 3;
    }
    console.error(`spacetime-sync ${command}: ${Code[err.code]}: ${err.rawMessage}`);
    return 1;
  }
}

function print<Desc extends DescMessage>(
  json: boolean,
  schema: Desc,
  message: MessageShape<Desc>,
  text: string[],
) {
  console.log(json ? toJsonString(schema, message, { prettySpaces: 2 }) : text.join('\n'));
}

export async function runStatus(argv: string[]): Promise<number> {
  const o = parse('status', argv);
  if (!o) return 2;
  return calling('status', o.url, async () => {
    const s = await admin(o.url).getStatus({});
    const st = s.spacetimedb;
    const k = s.kafka;
    const stOk = st?.state === ConnectionState.CONNECTED;
    const kOk =
      k?.state === KafkaState.DISABLED || k?.state === KafkaState.CONSUMING || k?.state === KafkaState.PAUSED;
    const uptime = s.uptime ? Number(s.uptime.seconds) : 0;
    print(o.json, GetStatusResponseSchema, s, [
      `spacetime-sync ${s.version}, up ${uptime} s`,
      `spacetimedb  ${ConnectionState[st?.state ?? 0]?.toLowerCase()}  ${st?.uri}/${st?.database}${st?.embedded ? ' (embedded devhost)' : ''}${st?.lastError ? `  last error: ${st.lastError}` : ''}`,
      `identity     ${st?.identity || 'not known yet'}`,
      `kafka        ${KafkaState[k?.state ?? 0]?.toLowerCase()}${k?.topics.length ? `  group ${k.groupId}, topics ${k.topics.join(',')}` : ''}${k?.lastError ? `  last error: ${k.lastError}` : ''}`,
      `protocol     ${s.protocolVersions.map((v) => `${v.major}.${v.minor}`).join(', ')}`,
    ]);
    return stOk && kOk ? 0 : 1;
  });
}

export async function runHead(argv: string[]): Promise<number> {
  const o = parse('head', argv);
  if (!o) return 2;
  const [stream, ...extra] = o.positionals;
  if (stream === undefined || extra.length > 0) {
    console.error('spacetime-sync head: give exactly one stream id');
    return 2;
  }
  return calling('head', o.url, async () => {
    const h = await admin(o.url).getStreamHead({ streamId: stream });
    print(o.json, GetStreamHeadResponseSchema, h, [
      `${h.streamId}  head ${h.headSeq}  low watermark ${h.lowWatermark}  epoch ${h.epoch}  authority seq ${h.lastSourceSeq}`,
    ]);
    return 0;
  });
}

export async function runLag(argv: string[]): Promise<number> {
  const o = parse('lag', argv, true);
  if (!o) return 2;
  return calling('lag', o.url, async () => {
    const l = await admin(o.url).getLag({ streamIds: o.positionals });
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
    print(
      o.json,
      GetLagResponseSchema,
      l,
      text.length ? text : ['no Kafka partitions and no streams asked for'],
    );
    if (o.max === undefined) return 0;
    const max = o.max;
    const behind = l.partitions.some((p) => p.lag > max) || l.streams.some((s) => s.sequenceLag > max);
    return behind ? 1 : 0;
  });
}
