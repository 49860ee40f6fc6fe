import { type Logger, type LoggerOptions, pino } from 'pino';

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
}

/** The project's logger: JSON lines, ISO time, payloads and credentials censored. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? process.env.LOG_LEVEL ?? 'info',
    base: config.component ? { component: config.component } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

export type { Logger };
