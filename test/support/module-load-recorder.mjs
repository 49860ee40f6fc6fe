/**
 * Test-only, for `node --import`: appends the URL of every module the process loads (ESM graph,
 * including TypeScript run through tsx and CommonJS packages imported from ESM) to the file named by
 * MODULE_LOAD_LOG, one per line. The hooks run on Node's loader thread; the file is written
 * synchronously, so a line is there before the module's code runs.
 */
import { register } from 'node:module';

const out = process.env.MODULE_LOAD_LOG;
if (!out) throw new Error('module-load-recorder: set MODULE_LOAD_LOG to the file to append to');
register('./module-load-recorder-hooks.mjs', import.meta.url, { data: { out } });
