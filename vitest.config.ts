import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing but Node; `kafka` needs the real broker, which its global setup
// installs (once, cached) and starts on loopback. One convention selects the broker: a test file that
// needs it is named `*.kafka.test.ts`, wherever it sits. Filter with `vitest run --project unit`.
const kafkaTests = ['**/*.kafka.test.ts'];

export default defineConfig({
  test: {
    // The spacetimedb package's unexported wire/module-def types are shipped as TypeScript source
    // (see devhost/stdb-internal); Vite must transform them instead of handing them to Node.
    server: { deps: { inline: [/spacetimedb[\\/]src[\\/]/] } },
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', ...kafkaTests],
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
    ],
  },
});
