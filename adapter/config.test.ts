import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded devhost, no Kafka consumer', () => {
    const c = loadConfig({});
    expect(c.spacetime).toEqual({ kind: 'embedded', port: 3000 });
    expect(c.kafka).toBeUndefined();
    expect(c.ingest).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.probeIntervalMs).toBe(10_000);
    expect(loadConfig({ PROBE_INTERVAL_MS: '0' }).probeIntervalMs).toBe(0);
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
      sessionTimeoutMs: 15_000,
      createTopics: false,
    });
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_MAX_IN_FLIGHT: '64' }).kafka?.maxInFlight).toBe(64);
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
});
