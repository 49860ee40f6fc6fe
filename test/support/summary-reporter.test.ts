/**
 * The closing line `vitest: N passed, N failed, N skipped` is what CI and people skimming a log read:
 * a file whose `beforeAll` failed (a server that did not start) must count as failed there, not as
 * its tests skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

it('counts a file whose beforeAll failed as failed in the closing line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'summary-reporter-'));
  try {
    const config = join(dir, 'vitest.config.mjs');
    writeFileSync(
      config,
      `export default { test: { root: ${JSON.stringify(ROOT)}, include: ['test/support/testing/before-all-fails.fixture.ts'], reporters: [${JSON.stringify(join(ROOT, 'test/support/summary-reporter.ts'))}] } };\n`,
    );
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
      },
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/vitest: 0 passed, 1 failed, 1 skipped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
