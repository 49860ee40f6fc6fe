import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from './tcp-proxy.js';

let echo: Server | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  await new Promise((r) => echo?.close(r));
});

async function setup(): Promise<TcpProxy> {
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo?.listen(0, '127.0.0.1', () => r()));
  const address = echo.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: address.port });
  return proxy;
}

/** A client connection through the proxy, recording what it received and how it ended. */
function dial(p: TcpProxy) {
  const s = new Socket();
  const got: string[] = [];
  const ended = new Promise<string>((resolve) => {
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('close', () => resolve('closed'));
  });
  s.on('data', (d) => got.push(d.toString()));
  s.connect(p.port, '127.0.0.1');
  return { s, got, ended, text: () => got.join('') };
}

describe('TcpProxy', () => {
  it('passes bytes both ways, also with a delay', async () => {
    const p = await setup();
    const c = dial(p);
    c.s.write('hello');
    await expect.poll(c.text).toBe('hello');
    p.set('pass', 50);
    c.s.write(' world');
    await expect.poll(c.text).toBe('hello world');
    c.s.destroy();
  });

  it('drop closes open connections and new ones', async () => {
    const p = await setup();
    const c = dial(p);
    c.s.write('x');
    await expect.poll(c.text).toBe('x');
    p.set('drop');
    expect(await c.ended).toBe('closed');
    expect(await dial(p).ended).toBe('closed');
    p.set('pass');
    const again = dial(p);
    again.s.write('back');
    await expect.poll(again.text).toBe('back');
    again.s.destroy();
  });

  it('reset sends RST to open connections and new ones', async () => {
    const p = await setup();
    const c = dial(p);
    c.s.write('x');
    await expect.poll(c.text).toBe('x');
    p.set('reset');
    expect(await c.ended).toBe('ECONNRESET');
    expect(['ECONNRESET', 'closed']).toContain(await dial(p).ended);
  });

  it('a black hole swallows bytes while the connection stays open, and resets it when lifted', async () => {
    const p = await setup();
    const c = dial(p);
    c.s.write('a');
    await expect.poll(c.text).toBe('a');
    p.set('blackhole');
    c.s.write('b');
    // The echo would answer within a round trip; give a second round trip's worth of pings a chance.
    const probe = dial(p);
    probe.s.write('ping');
    await expect.poll(() => p.accepted).toBe(2);
    expect(c.text()).toBe('a');
    expect(c.s.destroyed).toBe(false);
    p.set('pass');
    expect(await c.ended).toBe('ECONNRESET');
    probe.s.destroy();
  });
});
