/** The logging the server needs (pino's call shape); silent unless one is passed. */
export interface DevhostLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: DevhostLogger = { info() {}, warn() {}, error() {} };
