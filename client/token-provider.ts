/**
 * Where a connection attempt gets its token. A fixed token is used as it is; a provider is asked
 * before every attempt, so a short-lived token that expired while the client was connected
 * (SpacetimeDB checks tokens when a connection opens) is replaced by a fresh one on the reconnect.
 */

/**
 * Asked before every connection attempt. A provider that throws fails that attempt (retried with
 * backoff); a token the host refuses closes the client, as a fixed token does.
 */
export type TokenProvider = () => string | Promise<string>;

export type TokenSource = string | TokenProvider | undefined;

/**
 * Hands the attempt its token: a fixed one (or none) at once, a provider's once it answered and only
 * if `current()` still holds after that await (the attempt may have timed out, or the client closed).
 * A provider that throws calls `failed` with why, instead of `use`.
 */
export function withToken(
  source: TokenSource,
  current: () => boolean,
  use: (token: string | undefined) => void,
  failed: (why: string) => void,
): void {
  if (typeof source !== 'function') {
    use(source);
    return;
  }
  void (async () => {
    let token: string;
    try {
      token = await source();
    } catch (e) {
      failed(`the token provider failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (current()) use(token);
  })();
}
