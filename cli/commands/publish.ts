/**
 * `spacetime-sync publish <stream> --kind K (--json '{…}' | --file F | stdin lines)`: builds valid
 * envelopes (hash, timestamp, protocol version; publish/envelope.ts) and sends them through the
 * ingest API (`--url`, the local service by default), printing each receipt (stream, seq, outcome),
 * or to Kafka with `--kafka` (printing topic/partition@offset).
 *
 * Authority coordinates: `--authority-topic` (default `cli`) and `--authority-seq` for the first
 * payload (one more per following line). Without `--authority-seq`, the stream's last authority seq
 * is read from the service and the next one is used, which suits one publisher at a time; the
 * module skips (and reports as `duplicate`) an event whose authority seq is not past the stream's.
 *
 * `--in-flight N` keeps up to N ingest calls in flight (pipelining); they carry a publisher id and seq
 * (README "Pipelined publishing"), so the service applies them in the order they were made.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { resolveServiceUrl, urlOption } from '../options.js';

interface Options {
  readonly kind: string;
  readonly key?: string;
  readonly compactionKey?: string;
  readonly authorityTopic: string;
  readonly authoritySeq?: bigint;
  readonly json?: string;
  readonly file?: string;
  readonly kafka?: boolean;
  readonly brokers?: string;
  readonly topic?: string;
  readonly url?: string;
  readonly inFlight: number;
}

function inFlightCount(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64)
    throw new InvalidArgumentError(`a whole number from 1 to 64, got '${v}'`);
  return Number(v);
}

function positiveSeq(v: string): bigint {
  if (!/^\d+$/.test(v) || BigInt(v) < 1n) throw new InvalidArgumentError(`a whole number >= 1, got '${v}'`);
  return BigInt(v);
}

export function register(program: Command): void {
  program
    .command('publish')
    .description(
      'publish events to a stream through the ingest API (or --kafka): payload from --json, --file, or one per stdin line',
    )
    .argument('<stream>', 'stream id, e.g. orders:1')
    .requiredOption('--kind <kind>', 'event kind, e.g. order.updated.v1')
    .option('--json <payload>', 'the payload: one JSON value (checked to be JSON)')
    .option('--file <file>', 'the payload: the bytes of this file')
    .option('--key <key>', 'idempotency key (one payload only; default <authority topic>:<authority seq>)')
    .option('--compaction-key <key>', 'compaction key')
    .option('--authority-topic <topic>', 'the authority this comes from', 'cli')
    .addOption(
      new Option(
        '--authority-seq <n>',
        "the authority's seq for the first payload (default: the stream's last one + 1, asked from the service)",
      ).argParser(positiveSeq),
    )
    .addOption(urlOption())
    .addOption(
      new Option(
        '--in-flight <n>',
        'ingest calls kept in flight at once (1-64); above 1 the calls carry a publisher id and seq, so the service applies them in order',
      )
        .argParser(inFlightCount)
        .default(1),
    )
    .option('--kafka', 'produce to Kafka instead of calling the ingest API')
    .option(
      '--brokers <host:port,…>',
      'Kafka brokers for --kafka (else KAFKA_BROKERS, else the local service’s)',
    )
    .option(
      '--topic <topic>',
      'topic for --kafka (else the first of KAFKA_TOPICS, else the local service’s, else authority.events)',
    )
    .action(
      action(async (stream: string, opts: Options) => {
        const url = resolveServiceUrl(opts);
        const { buildEnvelope } = await import('../publish/envelope.js');
        const { payloadBatches } = await import('../publish/payloads.js');
        const senders = await import('../publish/senders.js');
        if (opts.kafka && opts.inFlight > 1)
          throw new UsageError('--in-flight is for the ingest API; Kafka keeps its own partition order');
        const batches = payloadBatches(opts);
        const first = await batches.next();
        if (first.done) throw new UsageError('no payload: give --json, --file, or lines on stdin');
        let seq = opts.authoritySeq ?? (await nextAuthoritySeq(url, stream, opts.kafka === true));
        const sender = opts.kafka
          ? await senders.kafkaSender(...(await kafkaTarget(opts)))
          : senders.ingestSender(url, opts.inFlight > 1);
        let sent = 0;
        let confirmed = 0;
        // Calls in flight, oldest first; their receipts print in call order.
        const inFlight: Promise<string[]>[] = [];
        const printOldest = async () => {
          let receipts: string[];
          try {
            receipts = await (inFlight.shift() as Promise<string[]>);
          } catch (e) {
            // The first failed call ends the command. The calls behind it are not applied (the service
            // holds them for it, then refuses them): say where the confirmed receipts stop.
            if (e instanceof Error && sent > 1)
              e.message += `; payload ${confirmed + 1} and after: no receipt (the receipts printed are all that were confirmed)`;
            throw e;
          }
          for (const line of receipts) console.log(line);
          confirmed += receipts.length;
        };
        try {
          for (let batch: IteratorResult<Uint8Array[]> = first; !batch.done; batch = await batches.next()) {
            if (opts.key !== undefined && sent + batch.value.length > 1)
              throw new UsageError('--key names one event; give one payload with it (or leave it out)');
            const envelopes = batch.value.map((payload) =>
              buildEnvelope({
                stream,
                kind: opts.kind,
                payload,
                ...(opts.key !== undefined ? { key: opts.key } : {}),
                ...(opts.compactionKey !== undefined ? { compactionKey: opts.compactionKey } : {}),
                authorityTopic: opts.authorityTopic,
                authoritySeq: seq++,
              }),
            );
            const receipts = sender.send(envelopes);
            receipts.catch(() => {}); // awaited below, in order
            inFlight.push(receipts);
            sent += envelopes.length;
            if (inFlight.length >= opts.inFlight) await printOldest();
          }
          while (inFlight.length > 0) await printOldest();
        } finally {
          await sender.close();
        }
        return ExitCode.Ok;
      }),
    );
}

/** --brokers/--topic, else KAFKA_BROKERS/KAFKA_TOPICS, else what the local service consumes. */
async function kafkaTarget(opts: Options): Promise<[string[], string]> {
  const { readLocalService } = await import('../local-service.js');
  const local = readLocalService()?.kafka;
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  const brokers = opts.brokers ? list(opts.brokers) : list(process.env.KAFKA_BROKERS);
  const chosen = brokers.length > 0 ? brokers : [...(local?.brokers ?? [])];
  if (chosen.length === 0)
    throw new UsageError('--kafka needs --brokers or KAFKA_BROKERS (or a local service that consumes Kafka)');
  const topic = opts.topic ?? list(process.env.KAFKA_TOPICS)[0] ?? local?.topics[0] ?? 'authority.events';
  return [chosen, topic];
}

/** The stream's last authority seq + 1, as the service knows it (0 + 1 for a new stream). */
async function nextAuthoritySeq(url: string, stream: string, kafka: boolean): Promise<bigint> {
  const { AdminService } = await import('../../proto/gen/spacetime_sync/v1/admin_service_pb.js');
  const { ErrorReason } = await import('../../proto/gen/spacetime_sync/v1/errors_pb.js');
  const { calling, RefusedError, serviceClient } = await import('../service-client.js');
  const admin = serviceClient(AdminService, url);
  try {
    const head = await calling(url, () => admin.getStreamHead({ streamId: stream }));
    let last = head.lastSourceSeq;
    if (kafka) {
      // Seen on Kafka but not yet appended counts too.
      const lag = await calling(url, () => admin.getLag({ streamIds: [stream] }));
      for (const s of lag.streams) if (s.latestSourceSeq > last) last = s.latestSourceSeq;
    }
    return last + 1n;
  } catch (e) {
    if (e instanceof RefusedError && e.reason === ErrorReason.UNKNOWN_STREAM) return 1n;
    if (kafka)
      throw new UsageError(
        `give --authority-seq: the stream's last authority seq could not be read from ${url} (${(e as Error).message})`,
      );
    throw e;
  }
}
