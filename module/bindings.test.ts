/**
 * What the committed client bindings offer a caller — the API `spacetime generate --lang typescript
 * --include-private` gives this module: camelCase handles for every table (private ones for the owner)
 * and a handle for every reducer but lifecycle ones. That they are current is `npm run bindings:check`,
 * part of `npm test`.
 */
import { describe, expect, it } from 'vitest';
import { DbConnection, reducers, tables } from './bindings/index.js';

describe('module bindings', () => {
  it('has camelCase handles for every table, private ones included (the owner reads the grants)', () => {
    expect(
      Object.keys(tables)
        .filter((k) => !k.includes('_'))
        .sort(),
    ).toEqual([
      'appendReceipt',
      'bridgeConfig',
      'bridgeDelivery',
      'bridgeOutbox',
      'bridgeWorker',
      'computeAssignment',
      'cutoverAdmin',
      'cutoverAudit',
      'cutoverState',
      'maintenanceSchedule',
      'providerCapability',
      'publisherCursor',
      'revokedSession',
      'sessionPresence',
      'sourceCursor',
      'sourceGap',
      'sourcePolicy',
      'streamGrant',
      'streamSource',
      'syncCheckpoint',
      'syncEvent',
      'syncEventLive',
      'syncStream',
      'syncWriter',
      'tokenGrant',
      'tokenIssuer',
      'tokenSession',
    ]);
  });

  it('has a handle for every client-callable and private reducer, none for lifecycle ones', () => {
    const names = Object.keys(reducers);
    expect(names).toEqual(
      expect.arrayContaining(['appendSyncEvent', 'appendPublisherEvents', 'ackCheckpoint', 'upsertPresence']),
    );
    expect(names).toContain('runMaintenance');
    expect(names.filter((n) => /^(init|clientDisconnected)$/.test(n))).toEqual([]);
    expect(typeof DbConnection.builder).toBe('function');
  });
});
