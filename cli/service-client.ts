/**
 * Clients of a running spacetime-sync (AdminService, IngestService), carrying the bearer token
 * service-auth.ts finds, and how their failures map to exit codes. The service answers its own refusals with an ErrorInfo detail; a failure without one
 * came from the transport or from something else answering at the address (a 404 page, another
 * protocol), which is "unreachable" (3), never "unhealthy" (1).
 */
import type { DescService } from '@bufbuild/protobuf';
import { type Client, Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ErrorInfoSchema, ErrorReason } from '../proto/gen/spacetime_sync/v1/errors_pb.js';
import { UnreachableError, UsageError } from './exit-codes.js';
import { serviceToken } from './service-auth.js';

/** How long a call may take before the address counts as not answering. */
const CALL_TIMEOUT_MS = 10_000;

export function serviceClient<S extends DescService>(service: S, url: string): Client<S> {
  let token: Promise<string | undefined> | undefined;
  const authorize: Interceptor = (next) => async (req) => {
    token ??= serviceToken(url);
    const t = await token;
    if (t) req.header.set('authorization', `Bearer ${t}`);
    return next(req);
  };
  return createClient(
    service,
    createConnectTransport({
      baseUrl: url,
      httpVersion: '1.1',
      defaultTimeoutMs: CALL_TIMEOUT_MS,
      interceptors: [authorize],
    }),
  );
}

/** The service's typed refusal: its reason and message, for exit 1. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  constructor(
    readonly reason: ErrorReason,
    readonly code: Code,
    message: string,
  ) {
    super(`${Code[code]}: ${message} (${ErrorReason[reason] ?? reason})`);
  }
}

/** Runs `call`; a failure becomes RefusedError (the service said no) or UnreachableError. */
export async function calling<T>(url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    // A token that cannot be read is the caller's setting, not the service's answer.
    if (e instanceof UsageError) throw e;
    const err = ConnectError.from(e);
    if (err.cause instanceof UsageError) throw err.cause;
    const [info] = err.findDetails(ErrorInfoSchema);
    if (info?.reason === ErrorReason.UNAUTHENTICATED)
      throw new RefusedError(
        info.reason,
        err.code,
        `${err.rawMessage} (give a token in SPACETIME_SYNC_TOKEN_FILE or SPACETIME_SYNC_TOKEN; README "Security")`,
      );
    if (info) throw new RefusedError(info.reason, err.code, err.rawMessage);
    throw new UnreachableError(`no spacetime-sync answers at ${url} (${Code[err.code]}: ${err.rawMessage})`);
  }
}
