import { beforeAll, describe, expect, it } from 'vitest';
import type { HostModuleSchema } from '../schema/index.js';
import { loadSchema, TEST_MODULE } from '../sql/testing/schema.js';
import { refuseClientCall } from './call-checks.js';

let schema: HostModuleSchema;
beforeAll(async () => {
  schema = await loadSchema(TEST_MODULE);
});

const check = (name: string, args: Uint8Array) =>
  refuseClientCall(schema.reducerByName(name), args, schema.typespace);

describe('refuseClientCall', () => {
  it('lets a client reducer with exactly its arguments through', () => {
    expect(check('stop_tickers', new Uint8Array())).toBeUndefined();
  });

  it('refuses an unknown reducer, and a scheduled-only one, as "no such reducer"', () => {
    expect(check('nope', new Uint8Array())).toBe('no such reducer');
    expect(check('tick', new Uint8Array())).toBe('no such reducer');
  });

  it('refuses lifecycle reducers by their SpacetimeDB names', () => {
    expect(check('init', new Uint8Array())).toBe("can't directly call special Init lifecycle reducer");
  });

  it('refuses arguments that are not exactly the parameters', () => {
    expect(check('stop_tickers', new Uint8Array([1]))).toMatch(
      /^invalid arguments for function stop_tickers: /,
    );
  });
});
