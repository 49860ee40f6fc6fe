/**
 * A module's `__describe_module__` bytes without hosting it: evaluation only registers the schema, so
 * every syscall may refuse (as the real host does during module initialisation).
 */
import {
  bundleModule,
  evaluateBundle,
  SYS_V2_0_EXPORTS,
  SYS_V2_1_EXPORTS,
  type SysV20,
  type SysV21,
} from '../loader/index.js';

function refusing(names: readonly string[]): Record<string, unknown> {
  const refuse = (name: string) => () => {
    throw new Error(`${name}: cannot call this function during module initialization`);
  };
  return Object.fromEntries(names.filter((n) => n !== 'moduleHooks').map((n) => [n, refuse(n)]));
}

export async function describeModule(entry: string): Promise<Uint8Array> {
  return describeBundle(await bundleModule(entry));
}

/** Same, for an already-built bundle. */
export function describeBundle(bundle: string): Uint8Array {
  const loaded = evaluateBundle(bundle, {
    v2_0: refusing(SYS_V2_0_EXPORTS) as SysV20,
    v2_1: refusing(SYS_V2_1_EXPORTS) as SysV21,
  });
  return loaded.hooks.describeModule();
}
