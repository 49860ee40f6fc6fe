/**
 * The Connect services on node:http, with request bodies decoded before Connect sees them: Connect
 * reports an undecodable binary body as `internal` (HTTP 500) and, by default, ignores unknown JSON
 * fields. Here a body that does not decode as the method's request message — unknown fields
 * included — is an `invalid` SyncError (HTTP 400 with ErrorInfo and InvalidDetail); a body that does
 * goes on to Connect unchanged in meaning, decoded once: the message travels to the method in the
 * call's context (`decodedInterceptor`) and Connect is handed an empty body of the same format, so
 * it does not decode the body again (its second `fromJson` was 0.14 ms of a 10-event publish and
 * 0.46 ms of a 100-event one, bench/results/profile-2026-12-01-fanout10.md). Bodies are bounded by
 * `readMaxBytes`. Before any body is
 * read the call passes the auth gate (./auth-gate.ts): a Connect-protocol unary call it refuses is
 * answered here at once; other protocols get the refusal from the gate's interceptor, in their format.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DescMessage, fromBinary, fromJson, type JsonValue, type Message } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type Interceptor,
} from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorToJsonBytes, parseContentType } from '@connectrpc/connect/protocol-connect';
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from '@connectrpc/connect-node';
import type { SyncError } from '../../shared/errors/sync-error.js';
import { methodKey } from '../auth/policy.js';
import { invalid } from '../errors/invalid.js';
import { toConnectError } from '../errors/to-connect.js';
import { jsonDeeperThan } from '../ingest/ingest-limits.js';
import { ADMISSION, type AuthGate, scopeInterceptor } from './auth-gate.js';
import { refusalHeaders } from './refusal-headers.js';

const COMPRESSIONS = [compressionGzip, compressionBrotli];
/**
 * Responses smaller than this go out uncompressed whatever the client accepts. Connect's default
 * (1 KiB) gzipped every publish answer of more than ~10 results: on the shared 2-core machine that
 * took 1.1 ms for 10 results and 1.9 ms for 100 (≈ 11 KiB) between the handler's return and the
 * response (zlib runs on libuv's pool, so the answer waits for a pool thread and another event-loop
 * turn), 11–15 % of a 100-event publish → response (bench/results/profile-2026-12-01-fanout10.md),
 * to save ≈ 9 KiB, well under a millisecond on a datacenter link. Above it compression still applies.
 */
export const RESPONSE_COMPRESS_MIN_BYTES = 64 * 1024;
/** Invalid UTF-8 is refused, not replaced by U+FFFD: a publisher must learn its bytes were wrong. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The request message as `decodeBody` decoded it; absent for calls it leaves to Connect. */
const DECODED = createContextKey<Message | undefined>(undefined, { description: 'decoded request' });

/**
 * Hands the method the message decoded here instead of the empty one Connect decoded from the
 * placeholder body. First of the interceptors, so the scope check sees the real request.
 */
const decodedInterceptor: Interceptor = (next) => async (req) => {
  if (req.stream) return next(req);
  const message = req.contextValues.get(DECODED);
  return next(message ? { ...req, message } : req);
};

export interface ConnectHandlerOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Largest request body accepted, compressed or not. */
  readonly readMaxBytes: number;
  /** Deepest nesting a JSON body may have; checked before parsing, so a deep body costs one scan. */
  readonly jsonMaxDepth: number;
  /** A failure past the point where a Connect error could be answered (e.g. the socket broke). */
  readonly onError: (e: unknown) => void;
  /** Authenticates and admits each call before its body is read (./auth-gate.ts). */
  readonly gate: AuthGate;
}

export function connectHandler(
  o: ConnectHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const router = createConnectRouter({
    jsonOptions: { ignoreUnknownFields: false },
    readMaxBytes: o.readMaxBytes,
    acceptCompression: COMPRESSIONS,
    compressMinBytes: RESPONSE_COMPRESS_MIN_BYTES,
    interceptors: [decodedInterceptor, scopeInterceptor],
  });
  o.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const handler = paths.get((req.url ?? '').split('?', 1)[0] ?? '');
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    void serve(handler, req, res, o).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
      if (ConnectError.from(e).code !== Code.Aborted) o.onError(e);
    });
  };
}

async function serve(
  handler: UniversalHandler,
  req: IncomingMessage,
  res: ServerResponse,
  o: ConnectHandlerOptions,
): Promise<void> {
  const admission = await o.gate.call(req, methodKey(handler.method));
  const values = createContextValues().set(ADMISSION, admission);
  let uReq = universalRequestFromNodeRequest(req, res, undefined, values);
  const type = parseContentType(req.headers['content-type'] ?? null);
  // Connect-protocol unary POSTs only: streams, GETs and gRPC bodies are Connect's own business
  // (a refusal reaches them through the interceptor, in their own error format).
  if (handler.method.methodKind === 'unary' && req.method === 'POST' && type && !type.stream) {
    if (!('principal' in admission)) {
      writeError(res, admission);
      return;
    }
    const decoded = await decodeBody(handler.method.input, uReq, type.binary, o);
    if ('error' in decoded) {
      writeError(res, decoded.error);
      return;
    }
    values.set(DECODED, decoded.message);
    uReq = decoded.request;
  }
  await universalResponseToNodeResponse(await handler(uReq), res);
}

async function decodeBody(
  schema: DescMessage,
  uReq: UniversalServerRequest,
  binary: boolean,
  { readMaxBytes, jsonMaxDepth }: Pick<ConnectHandlerOptions, 'readMaxBytes' | 'jsonMaxDepth'>,
): Promise<{ request: UniversalServerRequest; message?: Message } | { error: SyncError }> {
  const encoding = uReq.header.get('content-encoding');
  const compression = COMPRESSIONS.find((c) => c.name === encoding);
  // An encoding Connect does not know is Connect's to refuse; pass the body through untouched.
  if (encoding && encoding !== 'identity' && !compression) return { request: uReq };
  const refuse = (ruleId: string, description: string, cause?: unknown) => ({
    error: invalid([{ field: '', ruleId, description }], cause),
  });
  let bytes = await readAll(uReq.body as AsyncIterable<Uint8Array>, readMaxBytes);
  if (!bytes) return refuse('request.max_bytes', `request body is larger than ${readMaxBytes} bytes`);
  const header = new Headers(uReq.header);
  if (compression) {
    try {
      bytes = await compression.decompress(bytes, readMaxBytes);
    } catch (e) {
      if (ConnectError.from(e).code === Code.ResourceExhausted)
        return refuse(
          'request.max_bytes',
          `${encoding} body decompresses to more than ${readMaxBytes} bytes`,
          e,
        );
      return refuse('request.decode', `${encoding} body does not decompress: ${(e as Error).message}`, e);
    }
    header.delete('content-encoding');
    // The length sent was the compressed one; Connect would hold the inflated body to it (the
    // fuzzer found a gzipped empty body answered with an untyped "promised 20 bytes, received 0").
    header.delete('content-length');
  }
  try {
    if (binary) {
      const message = fromBinary(schema, bytes);
      // The placeholder's length is 0, not the one sent.
      header.delete('content-length');
      return { request: { ...uReq, header, body: once(new Uint8Array(0)) }, message };
    }
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch (e) {
      return refuse('request.utf8', 'JSON body is not valid UTF-8', e);
    }
    if (jsonDeeperThan(bytes, jsonMaxDepth))
      return refuse('request.json_depth', `JSON body nests deeper than ${jsonMaxDepth} levels`);
    const message = fromJson(schema, JSON.parse(text) as JsonValue, { ignoreUnknownFields: false });
    return { request: { ...uReq, header, body: EMPTY_JSON }, message };
  } catch (e) {
    const as = binary ? 'binary protobuf' : 'JSON';
    return refuse('request.decode', `body is not a ${schema.typeName} in ${as}: ${(e as Error).message}`, e);
  }
}

/** The whole body, or undefined once it passes `max` bytes. */
async function readAll(body: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The placeholder for a JSON body decoded here: Connect's decode of it is all but free. */
const EMPTY_JSON: JsonValue = {};

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function writeError(res: ServerResponse, error: SyncError): void {
  const body = errorToJsonBytes(toConnectError(error), {});
  const headers = { 'content-type': 'application/json', ...refusalHeaders(error) };
  res.writeHead(codeToHttpStatus(error.code), headers).end(body);
}
