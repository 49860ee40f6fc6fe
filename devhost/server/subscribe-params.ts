/**
 * `GET /v1/database/:name/subscribe` query parameters and subprotocol choice, as
 * `client-api/src/routes/subscribe.rs` reads them (`SubscribeQueryParams`, `select_protocol`).
 */
import { type Compression, V2_PROTOCOL, V3_PROTOCOL, type WsVersion } from './framing.js';

export interface SubscribeParams {
  /** Absent unless the client asked for one (the TS SDK never does). */
  readonly connectionId?: bigint;
  readonly compression: Compression;
  readonly light: boolean;
  /** Absent means the protocol's default (true for v2/v3: `DEFAULT_CONFIRMED_READS`). */
  readonly confirmed?: boolean;
}

export class SubscribeParamsError extends Error {
  override readonly name = 'SubscribeParamsError';
}

const COMPRESSIONS: readonly Compression[] = ['None', 'Brotli', 'Gzip'];

function bool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SubscribeParamsError(
    'Failed to deserialize query string: provided string was not `true` or `false`',
  );
}

export function parseSubscribeParams(search: URLSearchParams): SubscribeParams {
  const compression = search.get('compression') ?? 'Brotli';
  if (!COMPRESSIONS.includes(compression as Compression))
    throw new SubscribeParamsError(
      `Failed to deserialize query string: compression: unknown variant \`${compression}\`, expected one of \`None\`, \`Brotli\`, \`Gzip\``,
    );
  const rawId = search.get('connection_id');
  let connectionId: bigint | undefined;
  if (rawId !== null) {
    if (!/^(0x)?[0-9a-fA-F]{1,32}$/.test(rawId))
      throw new SubscribeParamsError(
        'Failed to deserialize query string: connection_id: invalid hex connection id',
      );
    connectionId = BigInt(rawId.startsWith('0x') ? rawId : `0x${rawId}`);
  }
  const confirmed = bool(search.get('confirmed'));
  return {
    ...(connectionId === undefined ? {} : { connectionId }),
    compression: compression as Compression,
    light: bool(search.get('light')) ?? false,
    ...(confirmed === undefined ? {} : { confirmed }),
  };
}

/** Server preference v3 > v2; the v1 protocols are not served (the TS SDK never offers them). */
export function selectProtocol(
  offered: Iterable<string>,
): { protocol: string; version: WsVersion } | undefined {
  const set = new Set(offered);
  if (set.has(V3_PROTOCOL)) return { protocol: V3_PROTOCOL, version: 'v3' };
  if (set.has(V2_PROTOCOL)) return { protocol: V2_PROTOCOL, version: 'v2' };
  return undefined;
}

/** `Sec-WebSocket-Protocol` is a comma-separated list, possibly over several header lines. */
export function offeredProtocols(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
