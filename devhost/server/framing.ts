/**
 * Websocket framing of SpacetimeDB's v2/v3 binary protocols (`client-api-messages/src/websocket/
 * common.rs`, `core/src/client/messages.rs`, `message_handlers_v3.rs`): every server frame is one
 * compression tag byte plus a body that is compressed only when it exceeds 1 KiB; a v2 body holds one
 * `ServerMessage`, a v3 body one or more. Client frames carry no tag; v3 may concatenate messages.
 */
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import { AlgebraicType, BinaryReader } from 'spacetimedb';
import { ClientMessage } from '../stdb-internal/client-api.js';

export type WsVersion = 'v2' | 'v3';
export type Compression = 'None' | 'Brotli' | 'Gzip';

export const V2_PROTOCOL = 'v2.bsatn.spacetimedb';
export const V3_PROTOCOL = 'v3.bsatn.spacetimedb';

/** `decide_compression`: bodies up to this size always go uncompressed. */
export const COMPRESS_THRESHOLD = 1024;
/** A v3 frame packs queued messages until its uncompressed body would pass this (`subscribe.rs`). */
export const V3_MAX_FRAME_BODY = 512 * 1024;

const TAG: Record<Compression, number> = { None: 0, Brotli: 1, Gzip: 2 };

/** Tag byte + body, compressed like the real server (fastest levels: it optimises for latency). */
export function encodeServerFrame(body: Uint8Array, compression: Compression): Buffer {
  const mode = body.length > COMPRESS_THRESHOLD ? compression : 'None';
  const payload =
    mode === 'Gzip'
      ? gzipSync(body, { level: 1 })
      : mode === 'Brotli'
        ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 1 } })
        : body;
  const frame = Buffer.allocUnsafe(1 + payload.length);
  frame[0] = TAG[mode];
  frame.set(payload, 1);
  return frame;
}

/**
 * Frames already built, by body and compression: a broadcast hands the same body (broadcast-memo.ts)
 * to every subscriber that sees the same update, and each of them gets the same frame instead of a
 * copy (or another compression) of it. Entries live as long as the body does.
 */
const frames = new WeakMap<Uint8Array, Partial<Record<Compression, Buffer>>>();

/** `encodeServerFrame`, built once per body and compression; the frame must not be modified. */
export function sharedServerFrame(body: Uint8Array, compression: Compression): Buffer {
  let byMode = frames.get(body);
  if (!byMode) {
    byMode = {};
    frames.set(body, byMode);
  }
  let frame = byMode[compression];
  if (!frame) {
    frame = encodeServerFrame(body, compression);
    byMode[compression] = frame;
  }
  return frame;
}

/** A client frame the server cannot accept; the connection is closed with this message. */
const UNSUBSCRIBE_FLAGS: ReadonlySet<string | undefined> = new Set(['Default', 'SendDroppedRows']);

export class ClientFrameError extends Error {
  override readonly name = 'ClientFrameError';
}

/**
 * The package's generated `ClientMessage.deserialize` is bound to the BinaryReader of its shipped
 * sources, a different class from the public one every other module here (and the SDK) uses; its
 * type description is plain data, so decode with the public deserializer instead.
 */
let deserializeClientMessage: ((reader: BinaryReader) => ClientMessage) | undefined;
function readClientMessage(reader: BinaryReader): ClientMessage {
  deserializeClientMessage ??= AlgebraicType.makeDeserializer(ClientMessage.algebraicType as never) as (
    r: BinaryReader,
  ) => ClientMessage;
  return deserializeClientMessage(reader);
}

/** A Subscribe's layout up to its query strings: tag 0, requestId u32, querySetId u32, then their count (u32). */
const SUBSCRIBE_TAG = 0;
const QUERY_COUNT_AT = 9;
/** The least one query string takes: its u32 length. */
const MIN_QUERY_BYTES = 4;

/**
 * The package's deserializer allocates `Array(count)` for an array of anything but bytes as soon as it
 * reads the count, before any element: a 13-byte Subscribe claiming 30 million query strings made the
 * host allocate ~240 MB and spend ~120 ms (found profiling the devhost/socket fuzz target). The query
 * strings are the only such array in a `ClientMessage`, so a count the rest of the frame cannot hold
 * is refused before decoding.
 */
function checkQueryCount(data: Uint8Array, at: number): void {
  const countAt = at + QUERY_COUNT_AT;
  if (data[at] !== SUBSCRIBE_TAG || data.length < countAt + 4) return;
  const count = new DataView(data.buffer, data.byteOffset + countAt, 4).getUint32(0, true);
  const left = data.length - (countAt + 4);
  if (count > left / MIN_QUERY_BYTES)
    throw new ClientFrameError(
      `invalid client message: Subscribe claims ${count} query strings but only ${left} bytes follow`,
    );
}

/** Decodes one client frame: exactly one message on v2, one or more back to back on v3. */
export function decodeClientFrame(data: Uint8Array, version: WsVersion): ClientMessage[] {
  if (data.length === 0 && version === 'v3')
    throw new ClientFrameError('v3 websocket binary payload must contain at least one v2 client message');
  const reader = new BinaryReader(data);
  const messages: ClientMessage[] = [];
  try {
    do {
      checkQueryCount(data, reader.offset);
      const message = readClientMessage(reader);
      // The package reads these flags as plain u8s; SpacetimeDB only knows flag 0 (`common.rs`).
      if ((message.tag === 'CallReducer' || message.tag === 'CallProcedure') && message.value.flags !== 0)
        throw new ClientFrameError(
          `invalid call ${message.tag === 'CallReducer' ? 'reducer' : 'procedure'} flag ${message.value.flags}`,
        );
      // The package's sum decoder leaves a field out for a variant tag past the enum's end instead of
      // failing (found by the devhost/socket fuzz target: an Unsubscribe with flags tag 2 reached the
      // session without flags and its handler threw). SpacetimeDB's decoder refuses an unknown tag.
      if (message.tag === 'Unsubscribe' && !UNSUBSCRIBE_FLAGS.has(message.value.flags?.tag))
        throw new ClientFrameError('invalid client message: unknown Unsubscribe flags variant');
      messages.push(message);
    } while (version === 'v3' && reader.remaining > 0);
  } catch (e) {
    if (e instanceof ClientFrameError) throw e;
    throw new ClientFrameError(`invalid client message: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (reader.remaining > 0)
    throw new ClientFrameError('invalid client message: trailing bytes after the message');
  return messages;
}
