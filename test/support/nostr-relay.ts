/**
 * Test-side handle on real Nostr relays started by scripts/nostr-relay.sh (rust-nostr's relay on
 * loopback), and readers that ask a relay what it stores (REQ until the relay's EOSE; COUNT).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Event } from 'nostr-tools/core';
import type { Filter } from 'nostr-tools/filter';
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
  /** The relay process's id while it runs (the bench reads its CPU). */
  pid(): number | undefined;
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
    pid() {
      try {
        return Number(readFileSync(join(dir, 'relay.pid'), 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Every event the relay stores that matches `filter`: a raw NIP-01 `REQ`, read until the relay's own
 * `EOSE`. Not nostr-tools' `subscribe`: it calls `oneose` after its own 4.4 s timer too, so on a loaded
 * machine (where verifying each event's signature in JS is slow) it returned a silent prefix — 568 of
 * the 600 events a relay held by its `COUNT`. A read that can't finish throws instead of truncating.
 */
export function storedEvents(url: string, filter: Filter, timeoutMs = 120_000): Promise<Event[]> {
  return ask(url, ['REQ', 'stored', { ...filter, limit: 1_000_000 }], timeoutMs, (msg, events) => {
    if (msg[0] === 'EVENT' && msg[1] === 'stored') events.push(msg[2] as Event);
    return msg[0] === 'EOSE' && msg[1] === 'stored' ? events : undefined;
  });
}

/** How many events the relay says it stores for `filter` (NIP-45 `COUNT`), independent of any REQ. */
export async function countEvents(url: string, filter: Filter, timeoutMs = 60_000): Promise<number> {
  return ask(url, ['COUNT', 'count', filter], timeoutMs, (msg) =>
    msg[0] === 'COUNT' && msg[1] === 'count' ? (msg[2] as { count: number }).count : undefined,
  );
}

/** Sends one request and reads answers until `done` returns a value; CLOSED/NOTICE/timeout throw. */
function ask<T>(
  url: string,
  request: unknown[],
  timeoutMs: number,
  done: (msg: unknown[], events: Event[]) => T | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const ws = new WebSocket(url);
    const events: Event[] = [];
    const finish = (err: Error | undefined, value?: T) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `${url}: no answer to ${String(request[0])} within ${timeoutMs} ms (${events.length} events so far)`,
          ),
        ),
      timeoutMs,
    );
    ws.on('open', () => ws.send(JSON.stringify(request)));
    ws.on('error', (e) => finish(e));
    ws.on('close', () => finish(new Error(`${url} closed before answering ${String(request[0])}`)));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as unknown[];
      if (msg[0] === 'CLOSED' || msg[0] === 'NOTICE') {
        finish(new Error(`${url} answered ${JSON.stringify(msg)}`));
        return;
      }
      const value = done(msg, events);
      if (value !== undefined) finish(undefined, value);
    });
  });
}
