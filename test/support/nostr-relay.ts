/**
 * Test-side handle on real Nostr relays started by scripts/nostr-relay.sh (rust-nostr's relay on
 * loopback), and a reader that asks a relay what it stores (REQ until EOSE, through nostr-tools).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Event } from 'nostr-tools/core';
import type { Filter } from 'nostr-tools/filter';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { WebSocket } from 'ws';

const run = promisify(execFile);
export const RELAY_SCRIPT = new URL('../../scripts/nostr-relay.sh', import.meta.url).pathname;

export interface TestRelay {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: the relay keeps events in memory). */
  start(): Promise<void>;
  /** Stops it and removes its data dir. */
  dispose(): Promise<void>;
}

/** A relay of the test's own; `owner` makes it refuse every event not by (or tagging) that key. */
export async function startRelay(options: { owner?: string } = {}): Promise<TestRelay> {
  const dir = await mkdtemp(join(tmpdir(), 'spacetime-sync-relay-'));
  const owner = options.owner ? ['--owner', options.owner] : [];
  const { stdout } = await run('bash', [RELAY_SCRIPT, 'start', '--data', dir, ...owner], { timeout: 60_000 });
  const url = /NOSTR_RELAY=(\S+)/.exec(stdout)?.[1];
  if (!url) throw new Error(`scripts/nostr-relay.sh start printed no NOSTR_RELAY:\n${stdout}`);
  const port = Number(new URL(url).port);
  const stop = async () => {
    await run('bash', [RELAY_SCRIPT, 'stop', '--data', dir], { timeout: 30_000 });
  };
  return {
    url,
    port,
    stop,
    async start() {
      await run('bash', [RELAY_SCRIPT, 'start', '--data', dir, '--port', String(port), ...owner], {
        timeout: 60_000,
      });
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every event the relay stores that matches `filter`. */
export async function storedEvents(url: string, filter: Filter): Promise<Event[]> {
  useWebSocketImplementation(WebSocket);
  const relay = await Relay.connect(url);
  try {
    return await new Promise<Event[]>((resolve) => {
      const events: Event[] = [];
      const sub = relay.subscribe([{ ...filter, limit: 100_000 }], {
        onevent: (e) => events.push(e),
        oneose: () => {
          sub.close();
          resolve(events);
        },
      });
    });
  } finally {
    relay.close();
  }
}
