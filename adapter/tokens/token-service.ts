/**
 * `TokenService`: a control service (role token_issuer, or admin; auth/policy.ts) mints a short-lived
 * client token for one (user, device, session) and its streams. The token is signed with the current
 * key of the service's issuer key set; SpacetimeDB verifies it through the service's JWKS and the
 * sync module grants exactly its streams to the connection.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  MintClientTokenRequestSchema,
  MintClientTokenResponseSchema,
  RevokeClientSessionRequestSchema,
  RevokeClientSessionResponseSchema,
  type TokenService,
} from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import { isSyncError, SyncError } from '../../shared/errors/sync-error.js';
import { unauthenticated, unauthorized } from '../auth/policy.js';
import { contractViolations, invalid } from '../errors/invalid.js';
import { toConnectError } from '../errors/to-connect.js';
import { ADMISSION } from '../http/auth-gate.js';
import type { IssuerKeySet } from './issuer-key-set.js';
import { planClientToken, signClientToken } from './mint.js';

export interface TokenServiceDeps {
  readonly keys: IssuerKeySet;
  /** The `iss`: known once the listener listens. */
  readonly issuer: () => string;
  readonly audience: string;
  /** Ends a session in SpacetimeDB (the writer's revoke_client_session); throws a SyncError. */
  readonly revoke: (sessionId: string) => Promise<void>;
  /** Each token minted, for the log (never the token itself). */
  readonly onMinted?: (m: { caller: string; subject: string; kid: string; tokenId: string }) => void;
}

/** Without a client-token configuration (a service built without one): every call refused, saying so. */
export function tokenServiceOff(): ServiceImpl<typeof TokenService> {
  return {
    mintClientToken() {
      throw toConnectError(
        unauthorized(
          'mint client tokens',
          '',
          'this service mints no client tokens (no client-token issuer configured)',
        ),
      );
    },
    revokeClientSession() {
      throw toConnectError(
        unauthorized(
          'revoke client sessions',
          '',
          'this service mints no client tokens (no client-token issuer configured)',
        ),
      );
    },
  };
}

export function tokenService(d: TokenServiceDeps): ServiceImpl<typeof TokenService> {
  return {
    async mintClientToken(req, ctx) {
      const violations = contractViolations(MintClientTokenRequestSchema, req);
      if (violations.length > 0) throw toConnectError(invalid(violations));
      const admission = ctx.values.get(ADMISSION);
      // The gate admitted the call (scopeInterceptor refuses any other); the principal bounds the streams.
      if (!admission || !('principal' in admission))
        throw toConnectError(unauthenticated('mint client tokens', 'the call was not authenticated'));
      const plan = planClientToken(admission.principal, req);
      if (plan instanceof SyncError) throw toConnectError(plan);
      const { current } = await d.keys.state();
      const issuer = d.issuer();
      const minted = await signClientToken(current, { issuer, audience: d.audience }, req, plan);
      d.onMinted?.({
        caller: `${admission.principal.issuer}/${admission.principal.subject}`,
        subject: plan.subject,
        kid: current.kid,
        tokenId: minted.tokenId,
      });
      return create(MintClientTokenResponseSchema, {
        token: minted.token,
        tokenType: 'Bearer',
        issuer,
        audience: d.audience,
        subject: plan.subject,
        keyId: current.kid,
        issuedAt: timestampFromMs(minted.issuedAtS * 1000),
        expiresAt: timestampFromMs(minted.expiresAtS * 1000),
        expiresInSeconds: plan.ttlS,
        refreshAfterSeconds: minted.refreshAfterS,
        streams: [...plan.streams],
        tokenId: minted.tokenId,
      });
    },
    async revokeClientSession(req) {
      const violations = contractViolations(RevokeClientSessionRequestSchema, req);
      if (violations.length > 0) throw toConnectError(invalid(violations));
      try {
        await d.revoke(req.sessionId);
      } catch (e) {
        throw isSyncError(e) ? toConnectError(e) : e;
      }
      return create(RevokeClientSessionResponseSchema, {});
    },
  };
}
