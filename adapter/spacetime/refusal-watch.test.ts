/** The start-up refusal watch: a named refusal ends the start at once; after a connection, nothing does. */
import { describe, expect, it } from 'vitest';
import type { SpacetimeRefusedError } from './connect-refusal.js';
import { RefusalWatch } from './refusal-watch.js';

const target = { uri: 'ws://127.0.0.1:1', database: 'sync' };

describe('RefusalWatch', () => {
  it('reports a refused token named in the SDK text as bad credentials, once per refusal', () => {
    const seen: SpacetimeRefusedError[] = [];
    const watch = new RefusalWatch(target, (e) => seen.push(e));
    watch.note('Failed to verify token: Unauthorized');
    expect(seen.map((e) => e.kind)).toEqual(['bad_credentials']);
    expect(watch.refused?.kind).toBe('bad_credentials');
    watch.note('Unexpected server response: 404');
    expect(seen.map((e) => e.kind)).toEqual(['bad_credentials', 'missing_database']);
  });

  it('treats every failure after a successful connection as an outage', () => {
    const seen: SpacetimeRefusedError[] = [];
    const watch = new RefusalWatch(target, (e) => seen.push(e));
    watch.note('Unexpected server response: 401');
    watch.connected();
    expect(watch.refused).toBeUndefined();
    watch.note('Unexpected server response: 401');
    expect(seen).toHaveLength(1);
    expect(watch.refused).toBeUndefined();
  });
});
