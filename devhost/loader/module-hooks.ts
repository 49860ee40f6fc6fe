/**
 * The typed adapter at the vm boundary: the module's hook object (host spec §1.4,
 * `server/runtime.ts::ModuleHooksImpl`) checked once and wrapped so nothing untyped leaks past it.
 */

type HostErrorConstructor = new (message: string) => Error;
type AnyFunction = (...args: unknown[]) => unknown;

export interface ModuleHooks {
  /** BSATN of `RawModuleDef` (V10). */
  describeModule(): Uint8Array;
  /** The module's own error class for a host errno (unknown codes → `SpacetimeHostError`). */
  errorConstructor(code: number): HostErrorConstructor;
  /** True when `error` is an instance of the module's `SenderError`. */
  isSenderError(error: unknown): boolean;
  /** `__call_reducer__`: returns whatever the reducer returned (must be `undefined` to commit). */
  callReducer(
    reducerId: number,
    sender: bigint,
    connectionId: bigint,
    timestamp: bigint,
    args: DataView,
  ): unknown;
}

function isObject(value: unknown): value is Record<PropertyKey, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}

function requireFunction(hooks: Record<PropertyKey, unknown>, name: string): AnyFunction {
  const fn = hooks[name];
  if (typeof fn !== 'function') throw new TypeError(`module hooks lack the function ${name}`);
  return fn as AnyFunction;
}

/** `v2.rs::get_hooks_from_default_export`: `default[moduleHooks](namespace)`, then the hooks' shape. */
export function acquireHooks(namespace: Record<string, unknown>, moduleHooks: symbol): ModuleHooks {
  const def = namespace.default;
  if (!isObject(def)) throw new TypeError('must export schema as default export');
  const getHooks = def[moduleHooks];
  if (typeof getHooks !== 'function') throw new TypeError('must export schema as default export');
  const raw: unknown = (getHooks as AnyFunction).call(def, namespace);
  if (!isObject(raw)) throw new TypeError('module hooks are not an object');
  for (const name of ['__call_view__', '__call_view_anon__', '__call_procedure__'])
    requireFunction(raw, name);
  const describe = requireFunction(raw, '__describe_module__');
  const getErrorCtor = requireFunction(raw, '__get_error_constructor__');
  const callReducer = requireFunction(raw, '__call_reducer__');
  const senderErrorClass = raw.__sender_error_class__;
  if (typeof senderErrorClass !== 'function') throw new TypeError('module hooks lack __sender_error_class__');
  const errorCtors = new Map<number, HostErrorConstructor>();

  return {
    describeModule() {
      const bytes = describe.call(raw);
      if (!ArrayBuffer.isView(bytes)) throw new TypeError('__describe_module__ did not return bytes');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    errorConstructor(code) {
      let ctor = errorCtors.get(code);
      if (!ctor) {
        const got = getErrorCtor.call(raw, code);
        if (typeof got !== 'function') throw new TypeError(`no error constructor for errno ${code}`);
        ctor = got as HostErrorConstructor;
        errorCtors.set(code, ctor);
      }
      return ctor;
    },
    isSenderError(error) {
      return isObject(error) && error instanceof (senderErrorClass as new () => unknown);
    },
    callReducer(reducerId, sender, connectionId, timestamp, args) {
      return callReducer.call(raw, reducerId, sender, connectionId, timestamp, args);
    },
  };
}
