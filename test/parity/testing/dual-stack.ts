/**
 * Test-only: both lanes on one authority log. One Kafka topic feeds spacetime-sync (the service with
 * its embedded devhost, on disk) and the legacy-lane reference server (its own consumer group, its own
 * journal); each lane also reads a topic of its own, which is how a test makes the lanes' feeds
 * diverge (a fault in one lane's pipeline). Either lane restarts on the same port and data, so the
 * clients' own reconnects carry them across.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { expect, vi } from 'vitest';
import type { CutoverConfig } from '../../../adapter/cutover/config.js';
import type { RunningService } from '../../../adapter/service.js';
import { createLogger } from '../../../adapter/telemetry/logger.js';
import { parseKeyring } from '../../../legacy/auth/keyring.js';
import { mintToken } from '../../../legacy/auth/tokens.js';
import { type LegacyLane, startLegacyLane } from '../../../legacy/lane.js';
import { DbConnection } from '../../../module/bindings/index.js';
import type { ShadowConfig } from '../../../parity/shadow/config.js';
import { type SyncEnvelope, SyncEnvelopeSchema } from '../../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { ensureWebSocket } from '../../../shared/node-websocket.js';
import { freePort } from '../../support/free-port.js';
import { createTopics, testKafka, testKafkaConfig, uniqueTopic } from '../../support/kafka-env.js';
import { startTestService } from '../../support/service-harness.js';

const KEYRING = parseKeyring(`parity-test=${'p'.repeat(40)}`, 'test keyring');

export class DualStack {
  private readonly kafka = testKafka('parity-test');
  private readonly producer = this.kafka.producer();
  service!: RunningService;
  legacy!: LegacyLane;
  legacyToken!: string;
  /** Shadow mode in the candidate service, when asked for. */
  private shadow: ShadowConfig | undefined;
  private processMetrics = false;
  private cutover: CutoverConfig | undefined;
  private probeIntervalMs: number | undefined;

  private constructor(
    /** Authority topics the legacy lane serves. */
    readonly servedTopics: readonly string[],
    readonly shared: string,
    readonly candidateOnly: string,
    readonly legacyOnly: string,
    private readonly candidateDir: string,
    private readonly candidatePort: number,
    readonly legacyDir: string,
    private readonly legacyPort: number,
    private readonly ids: {
      readonly adapterGroup: string;
      readonly legacyGroup: string;
      readonly deadLetter: string;
    },
  ) {}

  static async start(
    servedTopics: readonly string[],
    options: {
      shadow?: Omit<ShadowConfig, 'legacyUrl' | 'legacyToken' | 'topics'>;
      /** The candidate service exports Node's process metrics too, as `npm start` does. */
      processMetrics?: boolean;
      /** The candidate's cutover controller settings (short gate windows for tests). */
      cutover?: CutoverConfig;
      probeIntervalMs?: number;
    } = {},
  ): Promise<DualStack> {
    const root = await mkdtemp(join(tmpdir(), 'parity-'));
    const stack = new DualStack(
      servedTopics,
      uniqueTopic('authority'),
      uniqueTopic('authority-candidate-only'),
      uniqueTopic('authority-legacy-only'),
      join(root, 'devhost'),
      await freePort(),
      join(root, 'legacy'),
      await freePort(),
      {
        adapterGroup: uniqueTopic('adapter'),
        legacyGroup: uniqueTopic('legacy'),
        deadLetter: uniqueTopic('dlq'),
      },
    );
    await createTopics(
      { topic: stack.shared, numPartitions: 3 },
      { topic: stack.candidateOnly },
      { topic: stack.legacyOnly },
      { topic: stack.ids.deadLetter },
    );
    await stack.producer.connect();
    stack.processMetrics = options.processMetrics === true;
    stack.cutover = options.cutover;
    stack.probeIntervalMs = options.probeIntervalMs;
    stack.legacyToken = await mintToken(KEYRING, { topics: servedTopics, ttlSeconds: 3600 });
    await stack.startLegacy();
    if (options.shadow) {
      stack.shadow = {
        ...options.shadow,
        legacyUrl: stack.legacy.url,
        legacyToken: () => stack.legacyToken,
        topics: servedTopics,
      };
    }
    await stack.startCandidate();
    return stack;
  }

  get candidateUri(): string {
    return this.service.spacetimeUrl;
  }

  get ownerToken(): string {
    const token = this.service.devhost?.ownerToken;
    if (!token) throw new Error('no embedded devhost');
    return token;
  }

  async startCandidate(): Promise<void> {
    this.service = await startTestService({
      spacetime: { kind: 'embedded', port: this.candidatePort, dataDir: this.candidateDir },
      kafka: testKafkaConfig({
        topics: [this.shared, this.candidateOnly],
        groupId: this.ids.adapterGroup,
        deadLetterTopic: this.ids.deadLetter,
      }),
      ...(this.shadow ? { parityShadow: this.shadow } : {}),
      processMetrics: this.processMetrics,
      ...(this.cutover ? { cutover: this.cutover } : {}),
      ...(this.probeIntervalMs !== undefined ? { probeIntervalMs: this.probeIntervalMs } : {}),
    });
  }

  async startLegacy(): Promise<void> {
    this.legacy = await startLegacyLane({
      dataDir: this.legacyDir,
      keyring: KEYRING,
      logger: createLogger({ level: 'silent' }),
      port: this.legacyPort,
      servedTopics: this.servedTopics,
      kafka: {
        brokers: testKafkaConfig({ topics: [], groupId: '', deadLetterTopic: '' }).brokers,
        topics: [this.shared, this.legacyOnly],
        groupId: this.ids.legacyGroup,
      },
    });
  }

  async restartCandidate(): Promise<void> {
    await this.service.stop();
    await this.startCandidate();
  }

  /** Restarts the legacy lane; with `journalFrom`, on a copy of an older data directory (a restore). */
  async restartLegacy(journalFrom?: string): Promise<void> {
    await this.legacy.stop();
    if (journalFrom) {
      await rm(this.legacyDir, { recursive: true, force: true });
      await cp(journalFrom, this.legacyDir, { recursive: true });
    }
    await this.startLegacy();
  }

  /** A copy of the legacy lane's data directory as it is now (the lane is stopped around the copy). */
  async snapshotLegacy(): Promise<string> {
    await this.legacy.stop();
    const copy = `${this.legacyDir}-snapshot-${Date.now()}`;
    await cp(this.legacyDir, copy, { recursive: true });
    await this.startLegacy();
    return copy;
  }

  async produce(topic: string, envelopes: readonly SyncEnvelope[]): Promise<void> {
    await this.producer.send({
      topic,
      messages: envelopes.map((e) => ({
        key: e.streamId,
        value: Buffer.from(toBinary(SyncEnvelopeSchema, e)),
      })),
    });
  }

  /**
   * Retention on our side, once: keep the newest `keep` events of `stream` and drop the rest now — once every
   * client's acknowledged checkpoint is past what goes (else the stream would change epoch, as it must
   * when a client still needs the dropped history).
   */
  async truncateCandidate(stream: string, keep: bigint): Promise<void> {
    ensureWebSocket();
    const conn = await new Promise<DbConnection>((resolve, reject) => {
      DbConnection.builder()
        .withUri(this.service.spacetimeUrl)
        .withDatabaseName(this.service.database)
        .withToken(this.ownerToken)
        .onConnect((c) => resolve(c as DbConnection))
        .onConnectError((_ctx, e) => reject(e))
        .build();
    });
    try {
      const q = `'${stream.replaceAll("'", "''")}'`;
      await new Promise<void>((resolve, reject) => {
        conn
          .subscriptionBuilder()
          .onApplied(() => resolve())
          .onError((ctx) => reject(ctx.event ?? new Error('subscription failed')))
          .subscribe([
            `SELECT * FROM sync_stream WHERE stream_id = ${q}`,
            `SELECT * FROM sync_checkpoint WHERE stream_id = ${q}`,
          ]);
      });
      await vi.waitFor(
        () => {
          const head = conn.db.syncStream.streamId.find(stream)?.headSeq ?? 0n;
          const acked = [...conn.db.syncCheckpoint.iter()].map((c) => c.ackedSeq);
          expect(acked.every((a) => a >= head - keep)).toBe(true);
        },
        { timeout: 30_000, interval: 50 },
      );
      await conn.reducers.configureStream({
        streamId: stream,
        retainMinEvents: keep,
        compactByKey: false,
      });
      await conn.reducers.compactStream({ streamId: stream });
      // Once, like the legacy lane's prune: the maintenance timer would otherwise keep trimming the
      // stream to `keep` events as more arrive, and the lanes would retain different histories.
      await conn.reducers.configureStream({
        streamId: stream,
        retainMinEvents: 0n,
        compactByKey: false,
      });
    } finally {
      conn.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
    await this.legacy?.stop();
    await this.service?.stop();
  }
}
