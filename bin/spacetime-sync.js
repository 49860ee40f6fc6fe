#!/usr/bin/env node
// Entry point for `npx spacetime-sync <command>`. The project runs its TypeScript sources directly
// through tsx's loader (registered here, once), so there is no build step between a checkout and a run.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../adapter/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
