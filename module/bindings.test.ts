/**
 * What the committed client bindings offer a caller: every table (private ones for the owner) and only
 * the reducers a client may call. That they are current is `npm run bindings:check`, part of `npm test`.
 */
import { describe, expect, it } from 'vitest';
import { DbConnection, reducers, tables } from './bindings/index.js';

describe('module bindings', () => {
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
