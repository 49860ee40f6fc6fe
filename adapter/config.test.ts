import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { describeKafkaSecurity, kafkaClientSecurity } from './kafka/security-config.js';

describe('loadConfig', () => {
  it('defaults to the embedded devhost, no Kafka consumer', () => {
    const c = loadConfig({});
    expect(c.spacetime).toEqual({ kind: 'embedded', port: 3000 });
    expect(c.kafka).toBeUndefined();
    expect(c.ingest).toEqual({
      host: '127.0.0.1',
      port: 8080,
      limits: { maxBodyBytes: 16 * 1024 * 1024, maxQueued: 64, jsonMaxDepth: 32 },
    });
    expect(loadConfig({ INGEST_MAX_BODY_BYTES: '1024' }).ingest.limits?.maxBodyBytes).toBe(1024);
    expect(c.probeIntervalMs).toBe(10_000);
    expect(loadConfig({ PROBE_INTERVAL_MS: '0' }).probeIntervalMs).toBe(0);
    expect(c.writerMaxInFlight).toBe(8);
    expect(loadConfig({ SPACETIMEDB_MAX_IN_FLIGHT: '1' }).writerMaxInFlight).toBe(1);
    expect(() => loadConfig({ SPACETIMEDB_MAX_IN_FLIGHT: '0' })).toThrow(/^SPACETIMEDB_MAX_IN_FLIGHT:/);
  });

  it('spreads streams over SPACETIMEDB_SHARDS, or over SPACETIMEDB_SHARD_COUNT embedded databases', () => {
    expect(
      loadConfig({
        SPACETIMEDB_SHARDS: 'shard-0=ws://a:3000/sync,shard-1=ws://b:3000/sync',
        SPACETIMEDB_TOKEN: 'w',
        SPACETIMEDB_SHARD_TOKEN_SHARD_1: 'w1',
      }).spacetime,
    ).toEqual({
      kind: 'sharded',
      token: 'w',
      shards: [
        { name: 'shard-0', uri: 'ws://a:3000', database: 'sync' },
        { name: 'shard-1', uri: 'ws://b:3000', database: 'sync', token: 'w1' },
      ],
    });
    expect(loadConfig({ SPACETIMEDB_SHARD_COUNT: '3' }).spacetime).toEqual({
      kind: 'embedded',
      port: 3000,
      shardCount: 3,
    });
    expect(() => loadConfig({ SPACETIMEDB_SHARDS: 'x' })).toThrow(ConfigError);
    expect(() => loadConfig({ SPACETIMEDB_SHARDS: 'x' })).toThrow(/^SPACETIMEDB_SHARDS: 'x' is not name=uri/);
    expect(() => loadConfig({ SPACETIMEDB_SHARD_COUNT: '99' })).toThrow(/^SPACETIMEDB_SHARD_COUNT:/);
  });

  it('takes the Nostr bridge with several shards (a worker drains each shard)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-bridge-'));
    const keyFile = join(dir, 'nostr.key');
    writeFileSync(keyFile, '11'.repeat(32), { mode: 0o600 });
    const bridge = { BRIDGE_NOSTR_RELAYS: 'ws://127.0.0.1:7777', BRIDGE_NOSTR_KEY_FILE: keyFile };
    expect(loadConfig(bridge).bridge?.relays).toHaveLength(1);
    expect(loadConfig({ ...bridge, SPACETIMEDB_SHARD_COUNT: '2' }).bridge?.relays).toHaveLength(1);
    const sharded = loadConfig({
      ...bridge,
      SPACETIMEDB_SHARDS: 'a=ws://a:3000/sync,b=ws://b:3000/sync,c=ws://c:3000/sync',
    });
    expect(sharded.bridge?.relays).toHaveLength(1);
  });

  it('turns the Kafka consumer on when KAFKA_BROKERS is set', () => {
    const c = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, kafka-2:19092', KAFKA_TOPICS: 'a,b' });
    expect(c.kafka).toEqual({
      brokers: ['127.0.0.1:9092', 'kafka-2:19092'],
      topics: ['a', 'b'],
      groupId: 'spacetime-sync',
      deadLetterTopic: 'spacetime-sync.dead-letter',
      watchdogMs: 60_000,
      maxInFlight: 5_000,
      maxBatch: 1_000,
      partitionsConcurrently: 4,
      partitionCallsInFlight: 4,
      sessionTimeoutMs: 15_000,
      createTopics: false,
      unexplainedRetries: 5,
    });
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_MAX_IN_FLIGHT: '64' }).kafka?.maxInFlight).toBe(64);
  });

  it('takes a session timeout below 6 s only when the brokers were given a lower minimum', () => {
    const env = { KAFKA_BROKERS: 'k:9092', KAFKA_SESSION_TIMEOUT_MS: '1500' };
    expect(() => loadConfig(env)).toThrow(/1500 is below the brokers' 6000 ms minimum/);
    const c = loadConfig({ ...env, KAFKA_BROKER_MIN_SESSION_TIMEOUT_MS: '1000' });
    expect(c.kafka?.sessionTimeoutMs).toBe(1_500);
  });

  it('creates missing topics only when KAFKA_CREATE_TOPICS says so', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_CREATE_TOPICS: '1' }).kafka?.createTopics).toBe(true);
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_CREATE_TOPICS: 'false' }).kafka?.createTopics).toBe(
      false,
    );
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_CREATE_TOPICS: 'yes' })).toThrow(
      /KAFKA_CREATE_TOPICS/,
    );
  });

  it('targets a real SpacetimeDB when SPACETIMEDB_URI and SPACETIMEDB_DB are set', () => {
    const c = loadConfig({
      SPACETIMEDB_URI: 'wss://stdb.example:443',
      SPACETIMEDB_DB: 'sync',
      SPACETIMEDB_TOKEN: 't',
    });
    expect(c.spacetime).toEqual({
      kind: 'remote',
      uri: 'wss://stdb.example:443',
      database: 'sync',
      token: 't',
    });
  });

  it.each([
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS'],
    [{ SPACETIMEDB_URI: 'ws://x:3000' }, 'SPACETIMEDB_DB'],
    [{ SPACETIMEDB_DB: 'sync' }, 'SPACETIMEDB_URI'],
    [{ SPACETIMEDB_URI: 'ftp://x', SPACETIMEDB_DB: 'sync' }, 'SPACETIMEDB_URI'],
    [{ INGEST_PORT: '70000' }, 'INGEST_PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_MAX_IN_FLIGHT: '0' }, 'KAFKA_MAX_IN_FLIGHT'],
    [{ PROBE_INTERVAL_MS: '-5' }, 'PROBE_INTERVAL_MS'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SESSION_TIMEOUT_MS: '3000' }, 'KAFKA_SESSION_TIMEOUT_MS'],
    [
      {
        KAFKA_BROKERS: 'k:9092',
        KAFKA_SESSION_TIMEOUT_MS: '1000',
        KAFKA_BROKER_MIN_SESSION_TIMEOUT_MS: '1500',
      },
      'KAFKA_SESSION_TIMEOUT_MS',
    ],
    [{ SPACETIMEDB_CONNECT_TIMEOUT_MS: '0' }, 'SPACETIMEDB_CONNECT_TIMEOUT_MS'],
  ])('rejects %o naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message.startsWith(`${variable}: `)).toBe(true);
  });

  it('takes the events per reducer call from KAFKA_MAX_BATCH_EVENTS, 1 to 10,000', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_MAX_BATCH_EVENTS: '50' }).kafka?.maxBatch).toBe(50);
    for (const bad of ['0', '10001', 'many'])
      expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_MAX_BATCH_EVENTS: bad })).toThrow(
        /^KAFKA_MAX_BATCH_EVENTS: /,
      );
  });

  it('takes the partitions worked on at once from KAFKA_PARTITIONS_CONCURRENTLY, 1 to 64', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_PARTITIONS_CONCURRENTLY: '8' });
    expect(c.kafka?.partitionsConcurrently).toBe(8);
    for (const bad of ['0', '65'])
      expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_PARTITIONS_CONCURRENTLY: bad })).toThrow(
        /^KAFKA_PARTITIONS_CONCURRENTLY: /,
      );
  });

  it('takes the reducer calls in flight per partition from KAFKA_PARTITION_CALLS_IN_FLIGHT, 1 to 64', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_PARTITION_CALLS_IN_FLIGHT: '1' });
    expect(c.kafka?.partitionCallsInFlight).toBe(1);
    for (const bad of ['0', '65', 'x'])
      expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_PARTITION_CALLS_IN_FLIGHT: bad })).toThrow(
        /^KAFKA_PARTITION_CALLS_IN_FLIGHT: /,
      );
  });

  it('bounds retries of failures without a module reason (KAFKA_UNEXPLAINED_RETRIES)', () => {
    expect(
      loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_UNEXPLAINED_RETRIES: '9' }).kafka?.unexplainedRetries,
    ).toBe(9);
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_UNEXPLAINED_RETRIES: '0' })).toThrow(
      /KAFKA_UNEXPLAINED_RETRIES/,
    );
  });

  it('reads Kafka TLS and SASL settings, secrets from files only, and names the variable of a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
    const at = (name: string, text: string) => {
      writeFileSync(join(dir, name), text, { mode: 0o600 });
      return join(dir, name);
    };
    const env = {
      KAFKA_BROKERS: 'k:9093',
      KAFKA_TLS_CA_FILE: at('ca.pem', 'CA PEM'),
      KAFKA_TLS_CERT_FILE: at('cert.pem', 'CERT PEM'),
      KAFKA_TLS_KEY_FILE: at('key.pem', 'KEY PEM'),
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'adapter',
      KAFKA_SASL_PASSWORD_FILE: at('password', 's3cret\n'),
    };
    const security = loadConfig(env).kafka?.security;
    expect(kafkaClientSecurity(security)).toEqual({
      ssl: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'adapter', password: 's3cret' },
    });
    expect(describeKafkaSecurity(security)).toBe('tls (client certificate), sasl scram-sha-512 as adapter');
    expect(describeKafkaSecurity(security)).not.toContain('s3cret');
    expect(
      kafkaClientSecurity(loadConfig({ KAFKA_BROKERS: 'k:9093', KAFKA_TLS: '1' }).kafka?.security),
    ).toEqual({ ssl: true });
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092' }).kafka?.security).toBeUndefined();

    const bad = (extra: Record<string, string>, variable: string) => {
      const e = (() => {
        try {
          loadConfig({ KAFKA_BROKERS: 'k:9092', ...extra });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, variable).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe(variable);
      expect(String(e)).not.toContain('s3cret');
    };
    bad(
      { KAFKA_SASL_PASSWORD: 's3cret', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' },
      'KAFKA_SASL_PASSWORD',
    );
    bad({ KAFKA_SASL_MECHANISM: 'gssapi' }, 'KAFKA_SASL_MECHANISM');
    bad(
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD_FILE: env.KAFKA_SASL_PASSWORD_FILE },
      'KAFKA_SASL_USERNAME',
    );
    bad({ KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_MECHANISM');
    bad({ KAFKA_TLS_CA_FILE: join(dir, 'missing.pem') }, 'KAFKA_TLS_CA_FILE');
    bad({ KAFKA_TLS_CERT_FILE: env.KAFKA_TLS_CERT_FILE }, 'KAFKA_TLS_KEY_FILE');
    bad({ KAFKA_TLS: 'yes' }, 'KAFKA_TLS');
  });
});
