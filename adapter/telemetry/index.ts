export { createLogger, type Logger, type LoggerConfig, REDACTED_PATHS } from './logger.ts';
export { createMetricsRegistry, type MetricsConfig, Registry } from './metrics.ts';
