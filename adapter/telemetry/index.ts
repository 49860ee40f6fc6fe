export { createLogger, type Logger, type LoggerConfig, REDACTED_PATHS } from './logger.js';
export { createMetricsRegistry, type MetricsConfig, Registry } from './metrics.js';
