/**
 * Authentication and authorization at the HTTP boundary. Every Connect call is authenticated from
 * its headers and admitted by role before its body is read (an anonymous caller costs no decoding);
 * the principal travels to an interceptor, which checks a publisher's scope against the decoded
 * request whatever the protocol (Connect, gRPC, gRPC-web). `/metrics`, `/healthz` and `/readyz` need
 * an operator or admin token unless configured open.
 */
import type { IncomingMessage } from 'node:http';
import { createContextKey, type Interceptor } from '@connectrpc/connect';
import type { SyncError } from '../../shared/errors/sync-error.js';
import { type Authenticator, AuthFailure } from '../auth/authenticator.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { AuthFailureReason } from '../auth/failures.js';
import { admit, checkScope, methodKey, unauthenticated, unauthorized } from '../auth/policy.js';
import type { Principal } from '../auth/principal.js';
import { toConnectError } from '../errors/to-connect.js';

export interface Admission {
  readonly principal: Principal;
  /** Admitted only as a publisher: the decoded request must stay inside its scope. */
  readonly scoped: boolean;
}

/**
 * What the gate decided for the call: admitted, or the refusal to answer (for protocols whose error
 * format only Connect's own handler writes); absent means the call never passed the gate.
 */
export const ADMISSION = createContextKey<Admission | SyncError | undefined>(undefined, {
  description: 'admission',
});

/** Told about every refused call: what the log says, the call, and the counted reason. */
export type Refusal = (why: string, where: string, reason: AuthFailureReason) => void;

export interface AuthGate {
  /** A Connect call to the method `key`: admitted, or the SyncError to answer. */
  call(req: IncomingMessage, key: string): Promise<Admission | SyncError>;
  /** An operations endpoint that is not open: admitted (true) or the SyncError to answer. */
  ops(req: IncomingMessage, path: string): Promise<true | SyncError>;
}

/**
 * `limiter`: failed authentications per peer address; a peer that used them up is refused before its
 * token is verified (resource_exhausted with a retry hint), so guessing costs the service nothing.
 */
export function authGate(
  authenticator: Authenticator,
  onRefused: Refusal,
  limiter?: FailureLimiter,
): AuthGate {
  const authenticate = async (req: IncomingMessage, action: string): Promise<Principal | SyncError> => {
    const peer = limiter ? (req.socket.remoteAddress ?? 'unknown') : '';
    const throttled = limiter?.check(peer, action);
    if (throttled) {
      onRefused(`${peer}: too many failed authentications`, action, 'throttled');
      return throttled;
    }
    try {
      return await authenticator.authenticate(req.headers.authorization);
    } catch (e) {
      if (!(e instanceof AuthFailure)) throw e;
      limiter?.failed(peer);
      onRefused(e.why, action, e.reason);
      return unauthenticated(action, e.publicMessage);
    }
  };
  return {
    async call(req, key) {
      const p = await authenticate(req, key);
      if (!('roles' in p)) return p;
      const a = admit(p, key);
      if ('refused' in a) {
        onRefused(`${p.issuer}/${p.subject}: ${a.refused.message}`, key, 'forbidden');
        return a.refused;
      }
      return { principal: p, scoped: a.scoped };
    },
    async ops(req, path) {
      const p = await authenticate(req, `GET ${path}`);
      if (!('roles' in p)) return p;
      if (p.roles.has('operator') || p.roles.has('admin')) return true;
      onRefused(`${p.issuer}/${p.subject}: no operator or admin role`, `GET ${path}`, 'forbidden');
      return unauthorized(`GET ${path}`, '', `${path} needs the operator or admin role`);
    },
  };
}

/** The scope check on the decoded request; refuses any call that did not pass the gate. */
export const scopeInterceptor: Interceptor = (next) => async (req) => {
  const key = methodKey(req.method);
  const admission = req.contextValues.get(ADMISSION);
  if (!admission) throw toConnectError(unauthenticated(key, 'the call was not authenticated'));
  if (!('principal' in admission)) throw toConnectError(admission);
  if (admission.scoped) {
    if (req.stream) throw toConnectError(unauthorized(key, '', `${key} cannot be scoped per request`));
    const refused = checkScope(admission.principal, key, req.message);
    if (refused) throw toConnectError(refused);
  }
  return next(req);
};
