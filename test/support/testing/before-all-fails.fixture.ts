// Fixture for summary-reporter.test.ts: a file whose beforeAll throws, so its tests never run.
import { beforeAll, expect, it } from 'vitest';

beforeAll(() => {
  throw new Error('the fixture failed to start');
});

it('never runs', () => {
  expect(true).toBe(true);
});
