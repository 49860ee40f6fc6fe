/**
 * The running half of ./service-machine.ts for `startService`: the state, the parts started so far,
 * and the check after each await. A part is recorded as soon as it started, so whatever ends the
 * start — stop(), the abort signal, a later part failing — stops exactly what runs, newest first.
 */
import {
  type PartsReadiness,
  readiness,
  type ServiceEvent,
  type ServiceKind,
  type ServiceState,
  transitionService,
} from './service-machine.js';

/** startService was asked to stop before it finished starting; what it had started is stopped. */
export class StartAborted extends Error {
  override readonly name = 'StartAborted';
  constructor() {
    super('stopped while starting');
  }
}

export class ServiceLifecycle {
  private state: ServiceState = { kind: 'starting' };
  private readonly parts: (() => Promise<void> | void)[] = [];
  private stopping: Promise<void> | undefined;

  constructor(signal?: AbortSignal) {
    if (signal?.aborted) this.apply({ type: 'stop' });
    else signal?.addEventListener('abort', () => this.apply({ type: 'stop' }), { once: true });
  }

  get kind(): ServiceKind {
    return this.state.kind;
  }

  private apply(e: ServiceEvent): boolean {
    const next = transitionService(this.state, e);
    if (!next) return false;
    this.state = next;
    return true;
  }

  /**
   * Awaits one start step. When it fails, what started is stopped and the failure is the start's;
   * when it succeeds, `stop` (if any) is recorded for the part, then the state is re-checked: a stop
   * requested meanwhile stops everything, this part included, and ends the start (StartAborted).
   */
  async step<T>(work: Promise<T>, stop?: (part: T) => Promise<void> | void): Promise<T> {
    let part: T;
    try {
      part = await work;
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (stop) this.parts.push(() => stop(part));
    await this.checkpoint();
    return part;
  }

  /** For `.catch` on a start step: what started is stopped, and the failure is the start's. */
  readonly failed = async (e: unknown): Promise<never> => {
    await this.stop();
    throw e;
  };

  /** Records a part that started; stop() stops it, after the parts started later. */
  started(stop: () => Promise<void> | void): void {
    this.parts.push(stop);
  }

  /** After each await while starting: a stop requested meanwhile stops what started and ends the start. */
  async checkpoint(): Promise<void> {
    if (this.state.kind === 'starting') return;
    await this.stop();
    throw new StartAborted();
  }

  /** Every part is up; ends the start with StartAborted when a stop came first. */
  async running(): Promise<void> {
    if (!this.apply({ type: 'started' })) await this.checkpoint();
  }

  readiness(parts: PartsReadiness): { ok: boolean; why?: string } {
    return readiness(this.state, parts);
  }

  /** Stops the parts that started, newest first; later calls wait for the same stop. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.apply({ type: 'stop' });
      this.stopping = (async () => {
        for (const stop of this.parts.splice(0).reverse()) await stop();
        this.apply({ type: 'stopped' });
      })();
    }
    return this.stopping;
  }
}
