import { PassThrough } from 'node:stream';
import { Counter, register as globalRegistry } from 'prom-client';
import { setGlobalLogLevel } from 'spacetimedb';
import { describe, expect, it } from 'vitest';
import { DbConnection } from '../../module/bindings/index.js';
import { ensureWebSocket } from '../../shared/node-websocket.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { routeSdkLogs } from './sdk-logs.js';

function captureLines(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe('logger', () => {
  it('writes JSON lines with the component and censors payloads and tokens', async () => {
    const { stream, lines } = captureLines();
    const log = createLogger({ component: 'adapter', destination: stream, level: 'debug' });
    log.info(
      { stream: 's1', envelope: { payload: 'secret-bytes', kind: 'k' }, token: 'tok-123' },
      'appended',
    );
    await new Promise((r) => setImmediate(r));
    const [line] = lines();
    expect(line).toMatchObject({ component: 'adapter', msg: 'appended', stream: 's1', token: '[redacted]' });
    expect(line?.envelope).toEqual({ payload: '[redacted]', kind: 'k' });
    expect(JSON.stringify(line)).not.toContain('secret-bytes');
    expect(JSON.stringify(line)).not.toContain('tok-123');
  });

  it('drops lines below the level', async () => {
    const { stream, lines } = captureLines();
    const log = createLogger({ destination: stream, level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    await new Promise((r) => setImmediate(r));
    expect(lines().map((l) => l.msg)).toEqual(['loud']);
  });
});

describe('metrics registry', () => {
  it('is separate from the global registry', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    const name = 'spacetime_sync_test_events_total';
    const ca = new Counter({ name, help: 'x', registers: [a] });
    // The same name in a second registry must not collide: each adapter instance owns its own.
    new Counter({ name, help: 'x', registers: [b] });
    ca.inc(3);
    expect(await a.metrics()).toContain(`${name} 3`);
    expect(await b.metrics()).toContain(`${name} 0`);
    expect(await globalRegistry.metrics()).not.toContain(name);
  });

  it('adds process metrics only when asked', async () => {
    const withDefaults = createMetricsRegistry({ defaultMetrics: true });
    expect(await withDefaults.metrics()).toContain('spacetime_sync_process_cpu_seconds_total');
    expect(await createMetricsRegistry().metrics()).toBe('\n');
  });
});

describe('logger format', () => {
  it('pretty: one readable line per record, payloads still censored', async () => {
    const chunks: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const log = createLogger({ destination: stream, format: 'pretty', level: 'info' });
    log.info({ envelope: { payload: 'secret-bytes' } }, 'listening: ingest on http://127.0.0.1:8080');
    log.warn('waiting for topic t to exist');
    await new Promise((r) => setImmediate(r));
    const text = chunks.join('');
    expect(text).toMatch(/INFO.*listening: ingest on http:\/\/127\.0\.0\.1:8080/);
    expect(text).toMatch(/WARN.*waiting for topic t to exist/);
    expect(text).not.toContain('secret-bytes');
    expect(() => JSON.parse(text.split('\n')[0] as string)).toThrow();
  });
});

describe('SDK log routing', () => {
  it("turns the SDK's own console lines into JSON records and leaves other console output alone", async () => {
    const { stream, lines } = captureLines();
    const printed: unknown[][] = [];
    const realLog = console.log;
    const recorder = (...args: unknown[]) => {
      printed.push(args);
    };
    console.log = recorder;
    const undo = routeSdkLogs(createLogger({ component: 'adapter', destination: stream, level: 'info' }));
    try {
      // A real SDK connection to a port nobody listens on: the SDK reports it on the console (with
      // a token it first asks the host for a websocket token, and logs that failure as an error).
      ensureWebSocket();
      setGlobalLogLevel('info');
      await new Promise<void>((resolve) => {
        DbConnection.builder()
          .withUri('http://127.0.0.1:1')
          .withToken('not-a-real-token')
          .withDatabaseName('nowhere')
          .onConnectError(() => resolve())
          .build();
      });
      console.log('plain output', 42);
    } finally {
      undo();
      expect(console.log).toBe(recorder);
      console.log = realLog;
    }
    await new Promise((r) => setImmediate(r));
    expect(printed).toEqual([['plain output', 42]]);
    const records = lines();
    const sdk = records.filter((l) => l.subsystem === 'spacetimedb-sdk');
    expect(sdk.map((l) => [l.level, l.msg])).toEqual(
      expect.arrayContaining([
        [30, 'Connecting to SpacetimeDB WS...'],
        [50, 'Error connecting to SpacetimeDB WS'],
      ]),
    );
    expect(records.every((l) => l.component === 'adapter' && typeof l.msg === 'string')).toBe(true);
  });
});
