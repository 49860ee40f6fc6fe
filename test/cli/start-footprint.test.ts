/**
 * `spacetime-sync start` loads what its configuration uses and nothing else: without Kafka, relays
 * or the legacy lane, and logging JSON, none of kafkajs, nostr-tools (and its curves), pino-pretty or
 * esbuild (the sync module comes prebuilt from dist/) is loaded. Seen from outside, through the
 * module-load recorder in the child.
 */
import { describe, expect, it } from 'vitest';
import { packagesOf, startRecordingModules } from '../support/start-recording-modules.js';

describe('spacetime-sync start footprint', () => {
  it('on embedded defaults loads no Kafka client, Nostr library, pretty printer or bundler', async () => {
    const { urls, out } = await startRecordingModules({ DEVHOST_PORT: '0', LOG_LEVEL: 'info' });
    // A warning here would mean the module was bundled at start (dist/'s bundle stale or missing).
    expect(out).not.toContain('bundling the module now');
    const loaded = packagesOf(urls);
    // The recorder saw the packages the service does use…
    expect(loaded).toEqual(expect.arrayContaining(['spacetimedb', 'pino', '@connectrpc/connect']));
    // …and none of those this configuration has no use for.
    for (const unused of ['kafkajs', 'nostr-tools', '@noble/curves', 'pino-pretty', 'esbuild'])
      expect(loaded).not.toContain(unused);
  }, 90_000);
});
