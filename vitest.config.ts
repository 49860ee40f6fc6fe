import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Three projects: `unit` needs nothing but Node; `kafka` needs the real broker, which its global setup
// installs (once, cached) and starts on loopback; `nostr` needs real Nostr relays, which its global
// setup builds (once, cached) and its tests start. One convention selects them: a test file that
// needs the broker is named `*.kafka.test.ts`, one that needs relays `*.nostr.test.ts`, wherever it
// sits. Filter with `vitest run --project unit`.
const kafkaTests = ['**/*.kafka.test.ts'];
const nostrTests = ['**/*.nostr.test.ts'];

export default defineConfig({
  test: {
    // The spacetimedb package's unexported wire/module-def types are shipped as TypeScript source
    // (see devhost/stdb-internal); Vite must transform them instead of handing them to Node.
    server: { deps: { inline: [/spacetimedb[\\/]src[\\/]/] } },
    reporters: ['default', './test/support/summary-reporter.ts'],
    // The SDK's console lines become records tests can assert on, not `❌ ERROR` noise in the output.
    setupFiles: ['test/support/sdk-log-capture.ts'],
    // `spacetime-sync start` records the local service for the CLI (cli/local-service.ts); services
    // the tests start record theirs here, not in the user's ~/.local/state.
    env: { SPACETIME_SYNC_STATE_DIR: join(tmpdir(), `spacetime-sync-test-state-${process.pid}`) },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // expect.poll waits on a condition; its own default gives up after 1 s, which a loaded or slow
    // machine (CI, five engineers on two cores) can exceed on a round trip that is usually
    // milliseconds. A poll that succeeds still returns as soon as it does.
    expect: { poll: { timeout: 20_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', ...kafkaTests, ...nostrTests],
        },
      },
      {
        extends: true,
        test: {
          name: 'kafka',
          include: kafkaTests,
          globalSetup: ['test/support/kafka-global-setup.ts'],
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'nostr',
          include: nostrTests,
          globalSetup: ['test/support/nostr-relay-global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
