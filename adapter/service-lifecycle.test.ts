/** The service's start/stop bookkeeping: what started is stopped, newest first, however the start ends. */
import { describe, expect, it } from 'vitest';
import { ServiceLifecycle, StartAborted } from './service-lifecycle.js';

describe('service lifecycle', () => {
  it('stops the started parts newest first, once, and reports running only in between', async () => {
    const life = new ServiceLifecycle();
    const stopped: string[] = [];
    for (const part of ['devhost', 'writer', 'http']) {
      await Promise.resolve(part).catch(life.failed);
      life.started(() => {
        stopped.push(part);
      });
      await life.checkpoint();
    }
    expect(life.readiness({ spacetimeConnected: true }).why).toBe('service starting');
    await life.running();
    expect(life.readiness({ spacetimeConnected: true })).toEqual({ ok: true });
    const first = life.stop();
    const second = life.stop();
    expect(life.readiness({ spacetimeConnected: true }).why).toBe('service stopping');
    await Promise.all([first, second]);
    expect(stopped).toEqual(['http', 'writer', 'devhost']);
    expect(life.kind).toBe('stopped');
  });

  it('a step that fails stops what had started and fails the start with its own error', async () => {
    const life = new ServiceLifecycle();
    const stopped: string[] = [];
    life.started(() => {
      stopped.push('writer');
    });
    const failing = Promise.reject(new Error('port in use')).catch(life.failed);
    await expect(failing).rejects.toThrow('port in use');
    expect(stopped).toEqual(['writer']);
    expect(life.kind).toBe('stopped');
  });

  it('an abort that lands during a step stops that part too and ends the start with StartAborted', async () => {
    const abort = new AbortController();
    const life = new ServiceLifecycle(abort.signal);
    const stopped: string[] = [];
    life.started(() => {
      stopped.push('writer');
    });
    // The abort arrives while the HTTP listener is starting; the listener still comes up.
    const http = new Promise<string>((resolve) => {
      abort.abort();
      resolve('http');
    });
    const part = await http.catch(life.failed);
    life.started(() => {
      stopped.push(part);
    });
    await expect(life.checkpoint()).rejects.toBeInstanceOf(StartAborted);
    expect(stopped).toEqual(['http', 'writer']);
    // A start that got past its last step cannot turn the stopped service into a running one.
    await expect(life.running()).rejects.toBeInstanceOf(StartAborted);
    expect(life.kind).toBe('stopped');
  });
});
