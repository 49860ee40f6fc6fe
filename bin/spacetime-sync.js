#!/usr/bin/env node
// Entry point for `npx spacetime-sync <command>`: runs the compiled CLI in dist/ (`npm ci` builds it
// through `prepare`; `npm run build` rebuilds it after editing the sources).
let main;
let exitWhenFlushed;
try {
  ({ main, exitWhenFlushed } = await import('../dist/cli.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli.js')) throw e;
  console.error('spacetime-sync: not built yet; run `npm run build` (npm ci does it) in this checkout');
  process.exit(2);
}
// A command that returned is done: exit once its output is written out (cli/exit.ts), instead of
// waiting for idle timers (websocket keepalives, SDK reconnect timers) of connections it already closed.
await exitWhenFlushed(await main(process.argv.slice(2)));
