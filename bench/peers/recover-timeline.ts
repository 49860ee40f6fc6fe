/**
 * `node --import tsx bench/peers/recover-timeline.ts` (after `npm run build`): where the time of
 * bench:peers' "recover 250 missed" goes on our side, stage by stage. Starts the compiled service
 * like bench:peers (startOurs), leaves 250 events behind a cursor, then times REPS recoveries of them
 * with timestamps taken on the client: the SDK's token request, the websocket's construction, open
 * and every frame in or out, each subscription sent and applied (SdkSession.subscribe), the first
 * and last event delivered. Prints the median of each stage and every run's timeline.
 * TIMELINE_REPS (default 15), TIMELINE_MISSED (250), DEVHOST_THREAD of the service (worker).
 */
import { performance } from 'node:perf_hooks';
import { setGlobalLogLevel } from 'spacetimedb';
import { WebSocket as NodeWebSocket } from 'ws';
import { SdkSession } from '../../client/sdk-session.js';
import { percentile } from '../harness.js';
import { type OursThread, startOurs } from './systems.js';

const REPS = Number(process.env.TIMELINE_REPS ?? 15);
const MISSED = Number(process.env.TIMELINE_MISSED ?? 250);
const THREAD = (process.env.DEVHOST_THREAD ?? 'worker') as OursThread;

let marks: { at: number; what: string }[] = [];
let recording = false;
const mark = (what: string) => {
  if (recording) marks.push({ at: performance.now(), what });
};

// The SDK's token exchange (`/v1/identity/websocket-token`) goes through the global fetch.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  const token = url.includes('websocket-token');
  if (token) mark('token request sent');
  const res = await realFetch(input, init);
  if (token) mark('token response');
  return res;
};

// The SDK's socket (the `ws` package's, whichever opener made it): constructed (the SDK sets
// `binaryType` right after), open, and every frame in or out with its size.
const proto = NodeWebSocket.prototype as unknown as {
  emit(event: string, ...args: unknown[]): boolean;
  send(data: unknown, ...rest: unknown[]): void;
};
const binaryType = Object.getOwnPropertyDescriptor(NodeWebSocket.prototype, 'binaryType');
Object.defineProperty(NodeWebSocket.prototype, 'binaryType', {
  ...binaryType,
  set(this: NodeWebSocket, v: string) {
    mark('websocket constructed');
    binaryType?.set?.call(this, v);
  },
});
const frames = new WeakMap<object, number>();
const realEmit = proto.emit;
proto.emit = function (this: object, event: string, ...args: unknown[]) {
  if (event === 'open') mark('websocket open');
  if (event === 'message') {
    const n = (frames.get(this) ?? 0) + 1;
    frames.set(this, n);
    mark(`frame in #${n} (${(args[0] as Buffer | ArrayBuffer).byteLength} B)`);
  }
  return realEmit.call(this, event, ...args);
};
const realSend = proto.send;
proto.send = function (this: object, data: unknown, ...rest: unknown[]) {
  mark(`frame out (${(data as Uint8Array).byteLength} B)`);
  realSend.call(this, data, ...rest);
};
(globalThis as { WebSocket?: unknown }).WebSocket = NodeWebSocket;

// Each subscription the client asks for, and when the SDK reports it applied.
const realSubscribe = SdkSession.prototype.subscribe;
SdkSession.prototype.subscribe = function (queries, applied, failed) {
  // The table and the seq bounds, without the numbers (the same stage in every run).
  const what = queries
    .map((q) =>
      q
        .replace(/SELECT \* FROM (\w+).*?(seq .*)?$/, '$1 $2')
        .replace(/\d+/g, 'n')
        .trim(),
    )
    .join(' + ');
  mark(`subscribe sent: ${what}`);
  return realSubscribe.call(
    this,
    queries,
    () => {
      mark(`subscribe applied: ${what}`);
      applied();
    },
    failed,
  );
};

async function main(): Promise<void> {
  setGlobalLogLevel('warn');
  const sys = await startOurs(THREAD);
  try {
    const stream = 'timeline';
    const body = 'x'.repeat(200);
    const payloads = (n: number) => Array.from({ length: n }, () => JSON.stringify({ b: body }));
    const runs: { at: number; what: string }[][] = [];
    let got = 0;
    let target = 1;
    let done: () => void = () => {};
    const onEvent = () => {
      got++;
      if (got === 1) mark('first event delivered');
      if (got === target) {
        mark(`event ${target} delivered`);
        done();
      }
    };
    // The cursor is left at the stream's head; each repetition publishes MISSED more behind it.
    const first = await sys.follow(stream, 'timeline', onEvent);
    await sys.publish(stream, payloads(1));
    while (got < 1) await new Promise((r) => setTimeout(r, 5));
    await first.close();
    for (let rep = 0; rep < REPS + 2; rep++) {
      for (let i = 0; i < MISSED; i += 500) await sys.publish(stream, payloads(Math.min(500, MISSED - i)));
      got = 0;
      target = MISSED;
      const arrived = new Promise<void>((r) => {
        done = r;
      });
      marks = [];
      recording = true;
      mark('follow called');
      const follower = await sys.follow(stream, 'timeline', onEvent);
      mark('waitLive resolved');
      await arrived;
      recording = false;
      await follower.close();
      // The first two warm the process (JIT, the fetch pool) as bench:peers' earlier cases do.
      if (rep >= 2) runs.push(marks);
    }
    // Stage durations per run (between the first occurrences of two marks), then their medians.
    const at = (r: { at: number; what: string }[], re: RegExp) => {
      const t0 = (r[0] as { at: number }).at;
      const m = r.find((x) => re.test(x.what));
      return m ? m.at - t0 : Number.NaN;
    };
    const stages: [string, RegExp, RegExp][] = [
      [
        'open() until the socket is constructed (everything before the upgrade)',
        /follow called/,
        /websocket constructed/,
      ],
      [
        '  of which the token exchange (POST /v1/identity/websocket-token)',
        /token request sent/,
        /token response/,
      ],
      ['websocket upgrade (TCP connect + HTTP upgrade)', /websocket constructed/, /websocket open/],
      ['open until InitialConnection (frame in #1)', /websocket open/, /frame in #1 /],
      [
        'open until the stream rows + live subscription is applied',
        /websocket open/,
        /subscribe applied: sync_stream/,
      ],
      [
        'open until the replay subscription is applied',
        /websocket open/,
        /subscribe applied: sync_event seq/,
      ],
      [
        'replay: subscribe sent → applied',
        /subscribe sent: sync_event seq/,
        /subscribe applied: sync_event seq/,
      ],
      [
        '  of which: sent → its frame (≥ 10 kB) arrived (host + transfer)',
        /subscribe sent: sync_event seq/,
        /frame in #\d+ \(\d{5,} B\)/,
      ],
      [
        '  of which: frame arrived → applied (SDK decode + cache)',
        /frame in #\d+ \(\d{5,} B\)/,
        /subscribe applied: sync_event seq/,
      ],
      [
        'replay applied until the first event is delivered',
        /subscribe applied: sync_event seq/,
        /first event delivered/,
      ],
      [`first until event ${MISSED} delivered`, /first event delivered/, /event \d+ delivered/],
      ['total: follow called → last event', /follow called/, /event \d+ delivered/],
    ];
    console.log(`recoveries of ${MISSED}, ${runs.length} runs, devhost ${THREAD}; median ms (min–max):`);
    for (const [name, from, to] of stages) {
      const d = runs
        .map((r) => at(r, to) - at(r, from))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      if (d.length === 0) continue;
      const f = (n: number) => n.toFixed(2);
      console.log(
        `${f(percentile(d, 50)).padStart(7)} (${f(d[0] as number)}–${f(d[d.length - 1] as number)})  ${name}`,
      );
    }
    console.log('\nlast run in full:');
    const last = runs[runs.length - 1] ?? [];
    const t0 = (last[0] as { at: number }).at;
    for (const m of last) console.log(`${(m.at - t0).toFixed(2).padStart(8)}  ${m.what}`);
  } finally {
    await sys.stop();
  }
}

await main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
