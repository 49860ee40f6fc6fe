/**
 * The embedded devhost's worker thread: starts devhost with the options it was given, reports
 * `ready` (address and owner token, by message), forwards module logs and commit problems, answers
 * row reads, and on `stop` stops devhost — listener closed, every commit log flushed and closed —
 * before it reports `flushed`. Any error it cannot answer ends the thread; the service's side
 * (./thread-devhost.ts) treats that as devhost dying.
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { Devhost } from '@spacetime-sync/devhost';
import { startEmbeddedDevhost } from '../embedded-devhost.js';
import { decodedRows } from './decoded-rows.js';
import type { DevhostWorkerData, FromDevhostThread, ToDevhostThread } from './protocol.js';

// How often the thread looks for a change in its commit problems (disk full, and full no longer).
const COMMIT_PROBLEMS_EVERY_MS = 200;

const port = parentPort;
if (!port) throw new Error('devhost-thread/worker.ts runs only as a worker thread');
const send = (m: FromDevhostThread) => port.postMessage(m);
const { options } = workerData as DevhostWorkerData;

/** Linux: /proc/thread-self links to /proc/<pid>/task/<tid>, the thread's own CPU counters. */
function osThreadId(): { osThreadId?: number } {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    return Number.isInteger(tid) ? { osThreadId: tid } : {};
  } catch {
    return {};
  }
}

let devhost: Devhost | undefined;
let stopRequested = false;
let stopping: Promise<void> | undefined;

function stop(): Promise<void> {
  stopping ??= (async () => {
    clearInterval(problemsTimer);
    await devhost?.stop();
    send({ type: 'flushed' });
  })();
  return stopping;
}

let lastProblems = '[]';
const problemsTimer = setInterval(() => {
  const problems = devhost?.commitProblems() ?? [];
  const key = JSON.stringify(problems);
  if (key === lastProblems) return;
  lastProblems = key;
  send({ type: 'commit-problems', problems });
}, COMMIT_PROBLEMS_EVERY_MS);

port.on('message', (m: ToDevhostThread) => {
  switch (m.type) {
    case 'stop':
      stopRequested = true;
      // Still starting: the start below stops it once it is up.
      if (devhost) void stop();
      return;
    case 'trust-issuer':
      devhost?.trustIssuer(m.issuer);
      return;
    case 'table-rows':
      try {
        if (!devhost) throw new Error('devhost is not started');
        send({ type: 'table-rows', id: m.id, rows: decodedRows(devhost, m.database, m.table) });
      } catch (e) {
        send({ type: 'table-rows', id: m.id, error: (e as Error).message });
      }
      return;
  }
});

try {
  devhost = await startEmbeddedDevhost(options, (level, message) => send({ type: 'log', level, message }));
} catch (e) {
  const err = e as NodeJS.ErrnoException & { port?: number };
  clearInterval(problemsTimer);
  send({
    type: 'start-failed',
    message: err.message,
    ...(err.code ? { code: err.code } : {}),
    ...(err.port !== undefined ? { port: err.port } : {}),
  });
  port.close();
}
if (devhost) {
  send({
    type: 'ready',
    url: devhost.url,
    port: devhost.port,
    ownerToken: devhost.ownerToken,
    ownerIdentity: devhost.ownerIdentity,
    ...osThreadId(),
  });
  if (stopRequested) await stop();
}
