/**
 * The SpacetimeDB SDK logs by itself through `console.log('%c<icon> LEVEL%c message', style, style,
 * …args)` and offers no logger hook. In the service that would put free-text lines between pino's
 * JSON lines, so `start` routes them into pino: stdout stays one JSON object per line for log
 * shippers. Anything else printed with console.log passes through untouched.
 */
import type { Logger } from 'pino';

const SDK_LINE = /^%c\S*\s*(TRACE|DEBUG|INFO|WARN|ERROR)%c ([\s\S]*)$/;
const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** Routes the SDK's console lines to `logger` (as `subsystem: spacetimedb-sdk`); returns the undo. */
export function routeSdkLogs(logger: Logger): () => void {
  const sdk = logger.child({ subsystem: 'spacetimedb-sdk' });
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const m = typeof args[0] === 'string' ? SDK_LINE.exec(args[0]) : null;
    if (!m) {
      original.apply(console, args);
      return;
    }
    // args[1] and args[2] are the two CSS styles; what follows are the SDK's extra values.
    const extra = args.slice(3).map((a) => (a instanceof Error ? a.message : String(a)));
    sdk[LEVELS[m[1] as keyof typeof LEVELS]](extra.length > 0 ? { details: extra } : {}, m[2] as string);
  };
  return () => {
    console.log = original;
  };
}
