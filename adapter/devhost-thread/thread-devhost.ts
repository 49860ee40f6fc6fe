/**
 * The embedded devhost on a worker thread of the service process (./worker.ts), so the module's
 * reducers, the datastore, the commit log and the subscriptions run beside — not between — the
 * Connect ingest and the writer. It listens on its own loopback port as in the inline mode and the
 * writer connects to it the same way. Its lifecycle is ./machine.ts: a thread that dies while
 * serving is logged at fatal, named by `commitProblems()` (so /readyz says not ready) and settles
 * `failure` (so `spacetime-sync start` stops and exits 1); it is never restarted silently.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { EmbeddedDevhost, EmbeddedDevhostOptions } from '../embedded-devhost.js';
import { moduleLogTo } from '../embedded-devhost.js';
import {
  type DevhostThreadEvent,
  type DevhostThreadState,
  type ReadyDevhost,
  transitionDevhostThread,
} from './machine.js';
import type { DevhostWorkerData, FromDevhostThread, ToDevhostThread } from './protocol.js';

/**
 * From the TypeScript sources the thread needs tsx registered first (./ts-boot.mjs); the compiled
 * service (scripts/build.mjs) starts its bundled entry, dist/devhost-worker.js, beside this chunk.
 */
function workerEntry(data: DevhostWorkerData): { url: URL; data: DevhostWorkerData; execArgv?: string[] } {
  if (import.meta.url.endsWith('.ts'))
    return {
      url: new URL('./ts-boot.mjs', import.meta.url),
      data: { ...data, entry: new URL('./worker.ts', import.meta.url).href },
      // The test runner's and tsx's own flags have nothing to do in the thread (ts-boot registers tsx).
      execArgv: [],
    };
  // Compiled: the thread inherits the process's flags, so `--cpu-prof` profiles it too and an
  // `--import` hook (tests that record loaded modules) sees what it loads.
  return { url: new URL('./devhost-worker.js', import.meta.url), data };
}

type StartError = Error & { code?: string; port?: number };

class DevhostThread {
  private state: DevhostThreadState = { kind: 'starting' };
  private problems: readonly string[] = [];
  private startError: StartError | undefined;
  private readonly changed = new Set<() => void>();
  private readonly reads = new Map<
    number,
    { resolve: (rows: Record<string, unknown>[]) => void; reject: (e: Error) => void }
  >();
  private nextRead = 0;
  private reportFailure!: (e: Error) => void;
  readonly failure = new Promise<Error>((resolve) => {
    this.reportFailure = resolve;
  });

  constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
  ) {
    const moduleLog = moduleLogTo(logger);
    worker.on('message', (m: FromDevhostThread) => {
      switch (m.type) {
        case 'ready':
          this.apply({ type: 'ready', devhost: m });
          return;
        case 'start-failed':
          this.startError = Object.assign(new Error(m.message), {
            ...(m.code ? { code: m.code } : {}),
            ...(m.port !== undefined ? { port: m.port } : {}),
          });
          this.apply({ type: 'died', why: `could not start devhost: ${m.message}` });
          return;
        case 'log':
          moduleLog(m.level, m.message);
          return;
        case 'commit-problems':
          this.problems = m.problems;
          return;
        case 'table-rows': {
          const read = this.reads.get(m.id);
          this.reads.delete(m.id);
          if (m.rows) read?.resolve([...m.rows]);
          else read?.reject(new Error(m.error ?? 'no rows'));
          return;
        }
        case 'flushed':
          this.apply({ type: 'flushed' });
          // Devhost is stopped and its logs are closed: nothing is left for the thread to do.
          void worker.terminate();
          return;
      }
    });
    worker.on('error', (e) => this.apply({ type: 'died', why: `threw: ${e.message}` }));
    worker.on('exit', (code) => this.apply({ type: 'died', why: `exited with code ${code}` }));
  }

  get kind(): DevhostThreadState['kind'] {
    return this.state.kind;
  }

  private apply(e: DevhostThreadEvent): void {
    const next = transitionDevhostThread(this.state, e);
    if (!next) return;
    this.state = next;
    if (next.kind === 'failed') {
      const error = new Error(`the embedded devhost's thread died: ${next.why}`);
      for (const read of this.reads.values()) read.reject(error);
      this.reads.clear();
      if (next.wasReady) {
        this.logger.fatal({ why: next.why }, `${error.message}; the service cannot commit any more`);
        this.reportFailure(error);
      } else if (!this.startError) this.startError = error;
      void this.worker.terminate();
    }
    for (const wake of [...this.changed]) wake();
  }

  /** Resolves at the next state change. */
  private nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.changed.delete(wake);
        resolve();
      };
      this.changed.add(wake);
    });
  }

  async started(): Promise<ReadyDevhost> {
    while (this.state.kind === 'starting') await this.nextChange();
    // Re-checked after the await: only `ready` is a started devhost.
    const s = this.state;
    if (s.kind === 'ready') return s.devhost;
    throw this.startError ?? new Error(`the embedded devhost's thread is ${s.kind}`);
  }

  post(m: ToDevhostThread): void {
    if (this.state.kind === 'ready') this.worker.postMessage(m);
  }

  commitProblems(): string[] {
    const s = this.state;
    if (s.kind === 'failed' && s.wasReady) return [`the embedded devhost's thread died (${s.why})`];
    return [...this.problems];
  }

  tableRows(database: string, table: string): Promise<Record<string, unknown>[]> {
    if (this.state.kind !== 'ready')
      return Promise.reject(new Error(`the embedded devhost's thread is ${this.state.kind}`));
    const id = this.nextRead++;
    return new Promise((resolve, reject) => {
      this.reads.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'table-rows', id, database, table } satisfies ToDevhostThread);
    });
  }

  /** Asks the thread to stop devhost and waits until it ended; a thread that ended unflushed is logged. */
  async stop(): Promise<void> {
    const was = this.state.kind;
    this.apply({ type: 'stop' });
    if (was === 'starting' || was === 'ready')
      this.worker.postMessage({ type: 'stop' } satisfies ToDevhostThread);
    while (this.state.kind === 'stopping') await this.nextChange();
    const s = this.state;
    if (s.kind === 'failed' && !s.wasReady && was !== 'failed')
      this.logger.error({ why: s.why }, "the embedded devhost's thread did not stop cleanly");
  }
}

export async function startThreadDevhost(
  options: EmbeddedDevhostOptions,
  logger: Logger,
  /** The thread's old-generation heap limit (DEVHOST_THREAD_HEAP_MB): past it the thread dies, loudly. */
  heapMb?: number,
): Promise<EmbeddedDevhost> {
  const entry = workerEntry({ options });
  const worker = new Worker(entry.url, {
    workerData: entry.data,
    ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
    ...(heapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}),
  });
  const thread = new DevhostThread(worker, logger);
  const ready = await thread.started();
  logger.info(
    { port: ready.port, ...(ready.osThreadId !== undefined ? { osThreadId: ready.osThreadId } : {}) },
    'embedded devhost running on its own thread',
  );
  return {
    thread: 'worker',
    url: ready.url,
    port: ready.port,
    ownerToken: ready.ownerToken,
    ownerIdentity: ready.ownerIdentity,
    ...(ready.osThreadId !== undefined ? { osThreadId: ready.osThreadId } : {}),
    trustIssuer: (issuer) => thread.post({ type: 'trust-issuer', issuer }),
    commitProblems: () => thread.commitProblems(),
    tableRows: (database, table) => thread.tableRows(database, table),
    failure: thread.failure,
    stop: () => thread.stop(),
  };
}
