/**
 * Signs the bridge's events on a worker thread (./sign-worker.mjs), in batches, so that signing —
 * the bridge's main CPU cost, two secp256k1 point multiplications per event — does not run on the
 * event loop that serves sync (ingest, the writer, the Kafka source). Templates asked for in the
 * same tick go out as one message. The thread is started on first use and again after it died; a
 * batch it could not sign rejects, and the worker tries those rows again on its next pump.
 */
import { Worker } from 'node:worker_threads';
import type { EventTemplate, VerifiedEvent } from 'nostr-tools/core';

interface Pending {
  readonly resolve: (event: VerifiedEvent) => void;
  readonly reject: (e: Error) => void;
}

type Reply = { id: number; events?: VerifiedEvent[]; error?: string };

export class ThreadSigner {
  private worker: Worker | undefined;
  private nextId = 0;
  /** Batches sent to the thread, by id: one waiter per template, in order. */
  private readonly pending = new Map<number, Pending[]>();
  private queued: { template: EventTemplate; done: Pending }[] = [];
  private flushQueued = false;
  private closed = false;

  constructor(private readonly secretKey: Uint8Array) {}

  /** The signed event for `template` (signed with a batch of others asked for in the same tick). */
  sign(template: EventTemplate): Promise<VerifiedEvent> {
    if (this.closed) return Promise.reject(new Error('the signer is closed'));
    return new Promise((resolve, reject) => {
      this.queued.push({ template, done: { resolve, reject } });
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the signer is closed'));
    await w?.terminate();
  }

  private flush(): void {
    this.flushQueued = false;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0 || this.closed) return;
    const id = this.nextId++;
    this.pending.set(
      id,
      batch.map((b) => b.done),
    );
    this.thread().postMessage({ id, templates: batch.map((b) => b.template) });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./sign-worker.mjs', import.meta.url), {
      workerData: { secretKey: this.secretKey },
      // Only the bridge's modules: the service's loaders (tsx, vitest) have nothing to do here.
      execArgv: [],
    });
    w.unref();
    w.on('message', (m: Reply) => {
      const waiters = this.pending.get(m.id) ?? [];
      this.pending.delete(m.id);
      const events = m.events;
      waiters.forEach((w, i) => {
        const event = events?.[i];
        if (event) w.resolve(event);
        else w.reject(new Error(`signing failed: ${m.error ?? 'no event returned'}`));
      });
    });
    const died = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failAll(new Error(`the signing thread stopped: ${why}`));
    };
    w.on('error', (e) => died(e.message));
    w.on('exit', (code) => died(`exit ${code}`));
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const waiters of this.pending.values()) for (const w of waiters) w.reject(e);
    this.pending.clear();
    for (const b of this.queued.splice(0)) b.done.reject(e);
  }
}
