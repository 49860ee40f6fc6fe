/**
 * The module's public error contract: how a reducer failure is written into the `SenderError` text
 * SpacetimeDB hands to the caller verbatim, and how a caller reads it back. This is the one module
 * file besides the generated bindings that code outside `module/` may import, so it depends on
 * nothing (the module's bundle and the adapter both load it).
 *
 * Wire text: `<reason>: <sentence>\n<JSON fields>`. The reason is one of the contract's
 * `ErrorReason`s (proto/spacetime_sync/v1/errors.proto, lower-cased without its prefix); the fields
 * are what the reason's detail message needs, so the adapter can attach it. JSON never contains a raw
 * newline, so the last line is always the fields, whatever the sentence holds.
 */

/** The contract reasons a reducer raises (the others — unavailable, protocol mismatch — are the adapter's). */
export const MODULE_ERROR_REASONS = [
  'conflict',
  'stale_cursor',
  'unauthorized',
  'invalid',
  'source_regression',
  'unknown_stream',
  'beyond_head',
  'revision_mismatch',
  'out_of_order_sequence',
] as const;

export type ModuleErrorReason = (typeof MODULE_ERROR_REASONS)[number];

/** What each reason carries, named as in its detail message (bytes as hex, u64 as decimal text). */
export interface ModuleErrorFields {
  conflict: {
    stream_id: string;
    idempotency_key: string;
    existing_seq?: bigint;
    existing_payload_hash?: Uint8Array;
    offered_payload_hash?: Uint8Array;
    envelope_index?: number;
  };
  stale_cursor: {
    stream_id: string;
    low_watermark: bigint;
    epoch: bigint;
    requested_epoch: bigint;
    requested_watermark?: bigint;
  };
  unauthorized: { action: string; resource: string };
  /** One broken rule: `field` is the argument's field, `rule_id` a stable id. */
  invalid: { field: string; rule_id: string; envelope_index?: number };
  source_regression: {
    stream_id: string;
    authority_topic: string;
    last_authority_seq: bigint;
    offered_authority_seq: bigint;
    envelope_index?: number;
  };
  /** `resource` names what is missing: a stream id, a bridge key, a compute request id. */
  unknown_stream: { resource: string };
  beyond_head: { stream_id: string; seq: bigint; head: bigint };
  revision_mismatch: { resource: string; expected_revision: bigint; actual_revision: bigint };
  /** A pipelining publisher's call ahead of its predecessor: `expected_seq` is the one applied next. */
  out_of_order_sequence: { publisher_id: string; expected_seq: bigint; offered_seq: bigint };
}

/** A field value as it travels: bigints as decimal strings, bytes as lower-case hex. */
export type WireValue = string | number;

export interface ParsedModuleError {
  readonly reason: ModuleErrorReason;
  /** The human sentence. */
  readonly text: string;
  readonly fields: Readonly<Record<string, WireValue>>;
}

const hex = (bytes: Uint8Array): string => {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
};

/** The text a reducer puts in its SenderError. */
export function moduleErrorMessage<R extends ModuleErrorReason>(
  reason: R,
  text: string,
  fields: ModuleErrorFields[R],
): string {
  const wire: Record<string, WireValue> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    wire[k] = typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? hex(v) : (v as WireValue);
  }
  return `${reason}: ${text}\n${JSON.stringify(wire)}`;
}

const REASONS: ReadonlySet<string> = new Set(MODULE_ERROR_REASONS);
const HEAD = /^([a-z_]+): /;

/** Inverse of moduleErrorMessage; undefined for anything the module did not raise itself. */
export function parseModuleError(message: string): ParsedModuleError | undefined {
  const body = message.replace(/^SenderError: /, '');
  const head = HEAD.exec(body);
  const nl = body.lastIndexOf('\n');
  if (!head || !REASONS.has(head[1] as string) || nl < head[0].length) return undefined;
  let fields: unknown;
  try {
    fields = JSON.parse(body.slice(nl + 1));
  } catch {
    return undefined;
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined;
  for (const v of Object.values(fields)) if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  return {
    reason: head[1] as ModuleErrorReason,
    text: body.slice(head[0].length, nl),
    fields: fields as Record<string, WireValue>,
  };
}
