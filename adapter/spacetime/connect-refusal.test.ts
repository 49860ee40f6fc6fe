import { describe, expect, it } from 'vitest';
import { refusalKind, SpacetimeRefusedError } from './connect-refusal.js';

describe('refusalKind', () => {
  it('calls bad credentials and a missing database permanent, everything else an outage', () => {
    // What the SDK reports (seen against devhost): the token exchange and the websocket upgrade.
    expect(refusalKind('Failed to verify token: Unauthorized')).toBe('bad_credentials');
    expect(refusalKind('Unexpected server response: 401')).toBe('bad_credentials');
    expect(refusalKind('Unexpected server response: 403')).toBe('bad_credentials');
    expect(refusalKind('Unexpected server response: 404')).toBe('missing_database');
    for (const outage of [
      'fetch failed',
      'connect ECONNREFUSED 127.0.0.1:3000',
      'Unexpected server response: 503',
      'Unexpected server response: 4040',
      'disconnected',
    ])
      expect(refusalKind(outage)).toBeUndefined();
  });

  it('names the setting to check', () => {
    const e = new SpacetimeRefusedError(
      'missing_database',
      'ws://h:1',
      'sync',
      'Unexpected server response: 404',
    );
    expect(e.message).toContain("no database 'sync'");
    expect(e.message).toContain('SPACETIMEDB_DB');
    expect(new SpacetimeRefusedError('bad_credentials', 'ws://h:1', 'sync', 'x').message).toContain(
      'SPACETIMEDB_TOKEN',
    );
  });
});
