/**
 * The committed client bindings are a pure function of what the module describes: if a table,
 * column or reducer changes without regenerating, this fails (and tells you the command).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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

  it('exposes the public tables and client-callable reducers, and no private or lifecycle ones', () => {
    const tableNames = Object.keys(tables);
    expect(tableNames).toEqual(
      expect.arrayContaining(['sync_stream', 'sync_event', 'sync_checkpoint', 'session_presence']),
    );
    expect(tableNames).not.toContain('bridge_outbox');
    expect(tableNames).not.toContain('source_cursor');
    const reducerNames = Object.keys(reducers);
    expect(reducerNames).toEqual(
      expect.arrayContaining(['appendSyncEvent', 'ackCheckpoint', 'upsertPresence']),
    );
    expect(reducerNames.some((n) => /init|client_?connected|maintenance/i.test(n))).toBe(false);
    expect(typeof DbConnection.builder).toBe('function');
  });
});
