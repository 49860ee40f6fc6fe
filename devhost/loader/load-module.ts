/**
 * Evaluates a module bundle in its own vm context (host spec §1.2/§1.3): the server library replaces
 * `globalThis.console` and sets `window`/`global`, which must not touch this process's globals.
 */
import vm from 'node:vm';
import { BUILTINS_SOURCE } from './builtins.js';
import { bundleModule, MODULE_EXPORTS_GLOBAL } from './bundle.js';
import { acquireHooks, type ModuleHooks } from './module-hooks.js';
import { SYS_GLOBAL, type SysV20Name, type SysV21Name } from './sys-exports.js';

/** `spacetime:sys@2.0` minus `moduleHooks` (the loader supplies the symbol). */
export type SysV20 = Readonly<Record<Exclude<SysV20Name, 'moduleHooks'>, unknown>>;
export type SysV21 = Readonly<Record<SysV21Name, unknown>>;

export interface LoadedModule {
  readonly hooks: ModuleHooks;
  /** Copies bytes into a DataView of the module's realm (what `__call_reducer__` receives). */
  argsView(bytes: Uint8Array): DataView;
}

/**
 * Stands in for `Symbol::for_api("SpacetimeDB.moduleHooks.v2")`: any symbol works as long as the sys
 * module exports the same value the host looks up (spec §1.2).
 */
const MODULE_HOOKS = Symbol('SpacetimeDB.moduleHooks.v2');

const utf8Encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

function hostEncodeInto(s: string, out: Uint8Array): number {
  return utf8Encoder.encodeInto(s, out).written;
}
function hostDecode(input: unknown, fatal: boolean): string {
  const decoder = fatal ? fatalDecoder : lenientDecoder;
  if (ArrayBuffer.isView(input)) return decoder.decode(input as Uint8Array);
  // A context-realm ArrayBuffer fails our realm's instanceof checks but works as a view's backing store.
  return decoder.decode(new Uint8Array(input as ArrayBuffer));
}

const NAMESPACE_SOURCE = `(function (exports) {
  const ns = Object.create(null);
  for (const key of Object.keys(exports).sort()) {
    Object.defineProperty(ns, key, { value: exports[key], enumerable: true, writable: true });
  }
  Object.defineProperty(ns, Symbol.toStringTag, { value: 'Module' });
  return Object.preventExtensions(ns);
})`;

function runFunction(source: string, context: vm.Context): (...args: unknown[]) => unknown {
  const fn: unknown = vm.runInContext(source, context);
  if (typeof fn !== 'function') throw new Error('internal: builtin source did not evaluate to a function');
  return fn as (...args: unknown[]) => unknown;
}

/**
 * The module's realm with an ordinary global object, as the real host's `v8::Context::New` makes it.
 * A default vm context routes every global name the module reads (`Uint8Array`, `DataView`,
 * `String`, …) through Node's interceptor on a sandbox object: 0.2–0.6 µs per lookup, most of the
 * server library's row serialization (`new Uint8Array(…)` per written string and byte array).
 * `DONT_CONTEXTIFY` (Node ≥ 20.18) returns the new context's own global instead.
 */
function createModuleContext(): vm.Context {
  const plain = (vm.constants as unknown as { DONT_CONTEXTIFY?: symbol } | undefined)?.DONT_CONTEXTIFY;
  return plain === undefined
    ? vm.createContext({}, { name: 'spacetimedb_module' })
    : (vm.createContext(plain as unknown as vm.Context, { name: 'spacetimedb_module' }) as vm.Context);
}

/** Evaluates an already-built bundle script (see bundle.ts) against the given sys implementations. */
export function evaluateBundle(code: string, sys: { v2_0: SysV20; v2_1: SysV21 }): LoadedModule {
  const context = createModuleContext();
  runFunction(BUILTINS_SOURCE, context)(hostEncodeInto, hostDecode);
  const ctxGlobal = context as Record<string, unknown>;
  ctxGlobal[SYS_GLOBAL] = { '2.0': { ...sys.v2_0, moduleHooks: MODULE_HOOKS }, '2.1': { ...sys.v2_1 } };
  try {
    new vm.Script(code, { filename: 'spacetimedb_module' }).runInContext(context);
  } finally {
    delete ctxGlobal[SYS_GLOBAL];
  }
  const exports = ctxGlobal[MODULE_EXPORTS_GLOBAL];
  // The bundle's top-level `var` is a non-configurable property of an ordinary global: cleared instead.
  if (!Reflect.deleteProperty(ctxGlobal, MODULE_EXPORTS_GLOBAL)) ctxGlobal[MODULE_EXPORTS_GLOBAL] = undefined;
  if (typeof exports !== 'object' || exports === null) throw new TypeError('module bundle exported nothing');
  const namespace = runFunction(NAMESPACE_SOURCE, context)(exports) as Record<string, unknown>;
  const hooks = acquireHooks(namespace, MODULE_HOOKS);
  const makeView = runFunction(
    '(function (bytes) { const b = new Uint8Array(bytes.length); b.set(bytes); return new DataView(b.buffer); })',
    context,
  );
  return { hooks, argsView: (bytes) => makeView(bytes) as DataView };
}

/** Bundles `entry` like `spacetime build` and evaluates it. */
export async function loadModule(entry: string, sys: { v2_0: SysV20; v2_1: SysV21 }): Promise<LoadedModule> {
  return evaluateBundle(await bundleModule(entry), sys);
}
