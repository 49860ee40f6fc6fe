/**
 * A child process the chaos tools start and kill: its output kept (bounded) for diagnosis, and a
 * way to wait for a line. Everything is driven through the process's own surface (argv, env, stdout).
 */
import { type ChildProcess, spawn } from 'node:child_process';

const KEEP_CHARS = 64_000;

export interface Proc {
  readonly child: ChildProcess;
  readonly name: string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The tail of its output. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGKILL, resolved once it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** The parent's environment without the service's settings, so each child gets only what it is told. */
export function cleanEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(KAFKA_|SPACETIMEDB_|SPACETIME_SYNC_URL|INGEST_|DEVHOST_|LOG_LEVEL|PROBE_)/.test(k),
    ),
  ) as Record<string, string>;
  return { ...base, ...env };
}

export function startProc(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Proc {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let out = '';
  const waiters = new Set<() => void>();
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-KEEP_CHARS);
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const w of [...waiters]) w();
      resolve(code);
    }),
  );
  const gone = () => exitCode !== undefined;
  return {
    child,
    name,
    exited,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: no ${pattern} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const check = () => {
          const m = pattern.exec(out);
          if (m || gone()) {
            waiters.delete(check);
            clearTimeout(timer);
            if (m) resolve(m);
            else
              reject(
                new Error(`${name} exited (${exitCode}) before ${pattern}; output:\n${out.slice(-4000)}`),
              );
          }
        };
        waiters.add(check);
        check();
      });
    },
    async kill9() {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
