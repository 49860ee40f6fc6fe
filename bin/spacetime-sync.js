#!/usr/bin/env node
// Entry point for `npx spacetime-sync <command>`. The project runs its TypeScript sources directly
// through tsx's loader (registered here, once), so there is no build step between a checkout and a run.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../adapter/cli/main.ts');
// A command that returned is done: exit now instead of waiting for idle timers (websocket keepalives,
// SDK reconnect timers) of connections it already closed.
process.exit(await main(process.argv.slice(2)));
