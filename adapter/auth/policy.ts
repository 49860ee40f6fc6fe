/**
 * Who may call what: one row per Connect method the service serves, deny by default. A row names the
 * roles it admits (admin is admitted everywhere) and, for calls a publisher or a client may make,
 * what in the request its scope must cover (a client: only itself) — checked per envelope, so one envelope outside the scope refuses the
 * whole batch and names that envelope. A method without a row is refused to everyone: a new RPC
 * stays closed until it is given a row here (the authorization matrix test lists every served method).
 */
import { create, type DescMessage, type DescMethod, type MessageShape } from '@bufbuild/protobuf';
import { AdminService } from '../../proto/gen/spacetime_sync/v1/admin_service_pb.js';
import { UnauthorizedDetailSchema } from '../../proto/gen/spacetime_sync/v1/errors_pb.js';
import { IngestService } from '../../proto/gen/spacetime_sync/v1/ingest_service_pb.js';
import { TokenService } from '../../proto/gen/spacetime_sync/v1/token_service_pb.js';
import { SyncError } from '../../shared/errors/sync-error.js';
import { mayPublish, mayReadStream, type Principal, type Role } from './principal.js';

export interface MethodPolicy {
  /** The operation as UnauthorizedDetail.action names it. */
  readonly action: string;
  /** Roles admitted besides admin. */
  readonly roles: readonly Role[];
  /** For a caller admitted only as publisher: the refusal when the request leaves its scope. */
  readonly publisherScope?: (p: Principal, message: unknown) => SyncError<'unauthorized'> | undefined;
  /** For a caller admitted only as client: the refusal when the request is not about itself. */
  readonly clientScope?: (p: Principal, message: unknown) => SyncError<'unauthorized'> | undefined;
}

type Scope = (p: Principal, message: unknown) => SyncError<'unauthorized'> | undefined;

/** The scope check a role admitted to a method must pass, or undefined when the role is not scoped there. */
function scopeOf(policy: MethodPolicy, role: Role): Scope | undefined {
  if (role === 'publisher') return policy.publisherScope;
  if (role === 'client') return policy.clientScope;
  return undefined;
}

export const unauthorized = (action: string, resource: string, message: string): SyncError<'unauthorized'> =>
  new SyncError('unauthorized', message, { detail: create(UnauthorizedDetailSchema, { action, resource }) });

export const unauthenticated = (action: string, message: string): SyncError<'unauthenticated'> =>
  new SyncError('unauthenticated', message, {
    detail: create(UnauthorizedDetailSchema, { action, resource: '' }),
  });

/** `spacetime_sync.v1.IngestService/Publish`: the key of a method, as in its request path. */
export const methodKey = (m: DescMethod): string => `${m.parent.typeName}/${m.name}`;

function row<I extends DescMessage>(
  method: DescMethod & { readonly input: I },
  policy: Omit<MethodPolicy, 'publisherScope' | 'clientScope'> & {
    readonly publisherScope?: (p: Principal, m: MessageShape<I>) => SyncError<'unauthorized'> | undefined;
    readonly clientScope?: (p: Principal, m: MessageShape<I>) => SyncError<'unauthorized'> | undefined;
  },
): [string, MethodPolicy] {
  return [methodKey(method), policy as MethodPolicy];
}

const who = (p: Principal) => (p.subject ? `'${p.subject}'` : 'the caller');

function readStreams(action: string) {
  return (p: Principal, streamIds: readonly string[]) => {
    const outside = streamIds.find((s) => !mayReadStream(p, s));
    return outside === undefined
      ? undefined
      : unauthorized(
          action,
          outside,
          `${who(p)} may not ${action} for stream '${outside}': outside its publisher scope`,
        );
  };
}

const POLICIES: ReadonlyMap<string, MethodPolicy> = new Map([
  row(IngestService.method.publish, {
    action: 'publish',
    roles: ['publisher'],
    publisherScope: (p, req) => {
      const i = req.envelopes.findIndex((e) => !mayPublish(p, e.streamId, e.source?.authorityTopic));
      const e = req.envelopes[i];
      if (!e) return undefined;
      const topic = e.source?.authorityTopic ? ` (authority topic '${e.source.authorityTopic}')` : '';
      return unauthorized(
        'publish',
        e.streamId,
        `${who(p)} may not publish envelopes[${i}] to stream '${e.streamId}'${topic}: outside its publisher scope`,
      );
    },
  }),
  row(IngestService.method.negotiate, { action: 'negotiate', roles: ['publisher', 'operator'] }),
  row(AdminService.method.getStatus, { action: 'get status', roles: ['operator'] }),
  row(AdminService.method.getStreamHead, {
    action: 'get stream head',
    roles: ['operator', 'publisher'],
    publisherScope: (p, req) => readStreams('get stream head')(p, [req.streamId]),
  }),
  row(AdminService.method.getLag, {
    action: 'get lag',
    roles: ['operator', 'publisher'],
    publisherScope: (p, req) => readStreams('get lag')(p, req.streamIds),
  }),
  row(AdminService.method.getCutoverState, { action: 'get cutover state', roles: ['operator'] }),
  row(AdminService.method.setCutoverState, { action: 'set cutover state', roles: [] }),
  // Moving the cutover: admins only here, and the module checks the operator's SpacetimeDB identity too.
  row(AdminService.method.advanceCutover, { action: 'advance the cutover', roles: [] }),
  row(AdminService.method.rollbackCutover, { action: 'roll the cutover back', roles: [] }),
  // A desktop client asks which lane to use: for its own device only, so one client cannot map the
  // cohorts of others. Cohorts are keyed on the device (README "Security"): the token's `did` when it
  // has one (a minted client token's `sub` joins user, device and session, and a session changes),
  // else its `sub`.
  row(AdminService.method.routeClient, {
    action: 'route a client',
    roles: ['operator', 'client'],
    clientScope: (p, req) => {
      const own = p.deviceId || p.subject;
      return own !== '' && req.clientId === own
        ? undefined
        : unauthorized(
            'route a client',
            req.clientId,
            `${who(p)} may route only itself: client_id must be its token's device id (did), or its subject when it has no did`,
          );
    },
  }),
  // A narrow role for the control service that signs users in; the handler bounds the streams by
  // the caller's own `streams` claim (tokens/mint.ts).
  row(TokenService.method.mintClientToken, { action: 'mint client tokens', roles: ['token_issuer'] }),
  row(TokenService.method.revokeClientSession, { action: 'revoke client sessions', roles: ['token_issuer'] }),
]);

export function policyOf(key: string): MethodPolicy | undefined {
  return POLICIES.get(key);
}

/** Every method with a row (the matrix test compares it with what the service serves). */
export const POLICY_KEYS: readonly string[] = [...POLICIES.keys()];

/**
 * Before the body is read: does one of the caller's roles admit it to the method at all? `scoped`:
 * admitted only as publisher, so the request must still pass `checkScope`.
 */
export function admit(
  p: Principal,
  key: string,
): { readonly scoped: boolean } | { readonly refused: SyncError<'unauthorized'> } {
  const policy = POLICIES.get(key);
  if (!policy)
    return { refused: unauthorized(key, '', `no authorization policy for ${key}: refused to everyone`) };
  if (p.roles.has('admin')) return { scoped: false };
  const by = policy.roles.filter((r) => p.roles.has(r));
  if (by.length === 0) {
    const needed = ['admin', ...policy.roles].join(' or ');
    return {
      refused: unauthorized(
        policy.action,
        '',
        `${who(p)} may not ${policy.action}: it needs the ${needed} role`,
      ),
    };
  }
  return { scoped: by.every((r) => scopeOf(policy, r) !== undefined) };
}

/**
 * After the body is decoded: a caller admitted only by scoped roles (publisher, client) must stay
 * inside the scope of one of them.
 */
export function checkScope(
  p: Principal,
  key: string,
  message: unknown,
): SyncError<'unauthorized'> | undefined {
  const policy = POLICIES.get(key);
  if (!policy) return unauthorized(key, '', `no authorization policy for ${key}: refused to everyone`);
  const scopes = policy.roles.filter((r) => p.roles.has(r)).flatMap((r) => scopeOf(policy, r) ?? []);
  let refused: SyncError<'unauthorized'> | undefined;
  for (const scope of scopes) {
    refused = scope(p, message);
    if (!refused) return undefined;
  }
  return refused;
}
