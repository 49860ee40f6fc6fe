/**
 * A TCP proxy on loopback for network faults between two parts (adapter -> SpacetimeDB, clients ->
 * SpacetimeDB). Modes, switched at any time:
 *  - pass: bytes flow both ways, after `delayMs` if set;
 *  - drop: every open connection is closed (FIN) and new ones are closed at once;
 *  - reset: every open connection is reset (RST) and new ones too;
 *  - blackhole: connections are accepted and kept, but no byte goes through either way. Leaving it
 *    resets the connections it held (bytes were swallowed, as after a real outage they time out).
 */
import { createServer, type Server, Socket } from 'node:net';

export type ProxyMode = 'pass' | 'drop' | 'reset' | 'blackhole';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private delayMs = 0;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted since start (a client reconnecting shows up here). */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((socket) => proxy?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new TcpProxy(server, address.port, target);
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Points new connections at another upstream port (a devhost restarted elsewhere). */
  retarget(port: number): void {
    this.target.port = port;
  }

  set(mode: ProxyMode, delayMs = 0): void {
    const wasBlackhole = this.mode === 'blackhole';
    this.mode = mode;
    this.delayMs = mode === 'pass' ? delayMs : 0;
    if (mode === 'drop' || mode === 'reset') for (const p of [...this.pairs]) this.close(p, mode);
    else if (wasBlackhole && mode !== 'blackhole') for (const p of [...this.pairs]) this.close(p, 'reset');
  }

  private close(p: Pair, how: 'drop' | 'reset'): void {
    this.pairs.delete(p);
    for (const s of [p.client, p.upstream]) {
      if (how === 'reset') s.resetAndDestroy();
      else s.destroy();
    }
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    client.on('error', () => {});
    if (this.mode === 'drop') return void client.destroy();
    if (this.mode === 'reset') return void client.resetAndDestroy();
    const upstream = new Socket();
    upstream.on('error', () => {});
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    upstream.connect(this.target.port, this.target.host);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Forwards in order; a delay postpones each chunk, a black hole swallows it. */
  private pipe(from: Socket, to: Socket): void {
    let tail = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') return;
      const delay = this.delayMs;
      tail = tail.then(async () => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (!to.destroyed) to.write(chunk);
      });
    });
  }

  async stop(): Promise<void> {
    for (const p of [...this.pairs]) this.close(p, 'drop');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
