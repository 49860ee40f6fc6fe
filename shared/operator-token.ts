/**
 * The request header an operator's SpacetimeDB token travels in to AdminService's cutover moves (the
 * service makes the move with it, so the module sees the operator's identity). Shared by the CLI and
 * the service.
 */
export const OPERATOR_TOKEN_HEADER = 'spacetime-sync-operator-token';
