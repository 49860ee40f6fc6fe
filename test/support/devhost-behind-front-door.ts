/**
 * The prelude of the process tests where SpacetimeDB "is not there yet": a temp dir, devhost as its
 * own process, and the shared front door (./front-door.ts) before it — closing (`'close'`) or holding
 * (`'hold'`) every connection until the test calls `front.open()`. The processes a test starts
 * through `start` / `startService` are killed after the suite, then devhost, the front door and the
 * dir go. Read the fields once `beforeAll` has run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { cleanEnv, type Proc, startProc } from '../../chaos/procs/child.js';
import { BIN, type DevhostProc, SYNC_DB, startDevhostProc } from '../../chaos/procs/devhost-proc.js';
import { type FrontDoor, startFrontDoor } from './front-door.js';

export interface DevhostBehindFrontDoor {
  readonly dir: string;
  readonly devhost: DevhostProc;
  readonly front: FrontDoor;
  /** The front door's address, where the processes under test look for SpacetimeDB. */
  readonly uri: string;
  /** Starts a process the suite kills when it ends. */
  start(name: string, command: string, args: string[], env: Record<string, string>, cwd?: string): Proc;
  /**
   * `spacetime-sync start` as its own process against the front door, as the module's owner, on its
   * own state dir, logging at info; `env` adds settings or replaces these.
   */
  startService(name: string, env?: Record<string, string>): Proc;
}

export function useDevhostBehindFrontDoor(
  until: 'close' | 'hold',
  dirPrefix: string,
): DevhostBehindFrontDoor {
  let dir: string | undefined;
  let devhost: DevhostProc | undefined;
  let front: FrontDoor | undefined;
  const procs: Proc[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${dirPrefix}-`));
    devhost = await startDevhostProc(join(dir, 'devhost'));
    front = await startFrontDoor(devhost.port, until);
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) await p.kill9();
    await devhost?.proc.kill9();
    await front?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useDevhostBehindFrontDoor: read before its beforeAll ran');
    return value;
  };
  const self: DevhostBehindFrontDoor = {
    get dir() {
      return started(dir);
    },
    get devhost() {
      return started(devhost);
    },
    get front() {
      return started(front);
    },
    get uri() {
      return `ws://127.0.0.1:${started(front).port}`;
    },
    start(name, command, args, env, cwd) {
      const proc = startProc(name, command, args, env, cwd);
      procs.push(proc);
      return proc;
    },
    startService(name, env = {}) {
      return self.start(
        name,
        process.execPath,
        [BIN, 'start'],
        cleanEnv({
          SPACETIMEDB_URI: self.uri,
          SPACETIMEDB_DB: SYNC_DB,
          SPACETIMEDB_TOKEN: self.devhost.ownerToken,
          INGEST_PORT: '0',
          PROBE_INTERVAL_MS: '0',
          LOG_LEVEL: 'info',
          SPACETIME_SYNC_STATE_DIR: join(self.dir, `state-${name}`),
          ...env,
        }),
      );
    },
  };
  return self;
}
