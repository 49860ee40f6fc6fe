// Source mode only (tsx, vitest): a worker thread does not inherit the parent's TypeScript loader,
// so this plain-JS entry registers tsx in the thread, then imports the real entry (./worker.ts).
// The compiled service (dist/) starts dist/devhost-worker.js directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
