import { createRequire } from 'node:module';
import { type Logger, type LoggerOptions, pino } from 'pino';
import type pinoPretty from 'pino-pretty';

// pino-pretty (CommonJS, ≈9 MiB loaded) is required only when a run logs pretty lines: a service
// logging JSON never loads it. createLogger stays synchronous, which a dynamic import() would not allow.
const requirePretty = (): typeof pinoPretty => createRequire(import.meta.url)('pino-pretty');

/**
 * Paths never written to logs: event payloads can carry user data and tokens grant access.
 * Redaction is compiled once by pino (fast-redact), so listing paths here costs nothing per call.
 */
export const REDACTED_PATHS: readonly string[] = [
  'payload',
  '*.payload',
  'envelope.payload',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'password',
  '*.password',
];

export interface LoggerConfig {
  readonly level?: string;
  /** Component name, carried on every line as `component`. */
  readonly component?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read lines back. */
  readonly destination?: NodeJS.WritableStream;
  /**
   * One format for the whole run: `pretty` (readable lines, pino-pretty) for a person at a terminal,
   * `json` (one object per line) for log shippers. Default: pretty when writing to stdout and stdout
   * is a terminal, else JSON.
   */
  readonly format?: 'json' | 'pretty';
}

/** The project's logger: JSON lines (or pretty ones at a terminal), ISO time, payloads and credentials censored. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const format = config.format ?? (!config.destination && process.stdout.isTTY ? 'pretty' : 'json');
  const options: LoggerOptions = {
    level: config.level ?? process.env.LOG_LEVEL ?? 'info',
    base: config.component ? { component: config.component } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  if (format === 'pretty') {
    // Formatting happens after pino serialised (and redacted) the record; sync so that the last
    // lines before exit are not lost.
    const pretty = requirePretty()({
      destination: config.destination ?? 1,
      sync: true,
      colorize: !config.destination && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,component',
    });
    return pino(options, pretty);
  }
  // Synchronous writes to stdout, not pino's default of writes queued on libuv's pool: at stop the
  // pool is busy with devhost's commit-log fsyncs, and a write still queued there when the process
  // exits came out after the final 'stopped' line or was lost (test/cli/exit.test.ts). The service
  // logs per event never, per call only refusals, so nothing hot waits on these writes.
  return pino(options, config.destination ?? pino.destination({ dest: 1, sync: true }));
}

export type { Logger };
