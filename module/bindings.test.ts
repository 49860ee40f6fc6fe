/**
 * The committed client bindings are a pure function of what the module describes: if a table,
 * column or reducer changes without regenerating, this fails (and tells you the command).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  renderTestModuleBindings,
  OUT as TEST_MODULE_BINDINGS,
} from '../devhost/testdata/test-module-bindings/generate.js';
import { BINDINGS, renderBindings } from '../scripts/generate-bindings.js';
import { DbConnection, reducers, tables } from './bindings/index.js';

describe('module bindings', () => {
  it.each(BINDINGS)(
    '$out matches what $module describes (npm run bindings)',
    async ({ module, out }) => {
      expect(readFileSync(out, 'utf8')).toBe(await renderBindings(module));
    },
    60_000,
  );

  it('devhost test-module bindings match what the test module describes', async () => {
    expect(readFileSync(TEST_MODULE_BINDINGS, 'utf8')).toBe(await renderTestModuleBindings());
  }, 60_000);

  it('exposes every table (private ones for the owner) and only client-callable reducers', () => {
    const tableNames = Object.keys(tables);
    expect(tableNames).toEqual(
      expect.arrayContaining([
        'sync_stream',
        'sync_event',
        'sync_checkpoint',
        'session_presence',
        'source_cursor',
        'bridge_outbox',
      ]),
    );
    expect(tableNames).not.toContain('st_client');
    const reducerNames = Object.keys(reducers);
    expect(reducerNames).toEqual(
      expect.arrayContaining(['appendSyncEvent', 'ackCheckpoint', 'upsertPresence']),
    );
    expect(reducerNames.some((n) => /init|client_?connected|maintenance/i.test(n))).toBe(false);
    expect(typeof DbConnection.builder).toBe('function');
  });
});
