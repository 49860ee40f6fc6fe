/**
 * Turning what a user gives (a runtime base URL or the full socket URL, plus a token) into the
 * generation-1 socket URL, and refusing a generation-2 endpoint up front: its paths are per topic
 * (`/internal/v1/khala/topics/<topic>/ws`) and it speaks `{"type":…}` frames (fact sheet §14).
 */
import { LegacyLaneError } from './errors.js';

const GEN2_PATH = /\/khala\/topics\//;

export function socketUrl(base: string, token: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new LegacyLaneError('unreachable', `not a URL: ${base}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new LegacyLaneError('unreachable', `${base}: the legacy lane is a ws:// or wss:// endpoint`);
  }
  if (GEN2_PATH.test(url.pathname)) throw gen2(`${url.origin}${url.pathname}`);
  if (!url.pathname.endsWith('/websocket')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '').replace(/\/socket$/, '')}/socket/websocket`;
  }
  url.searchParams.set('vsn', '2.0.0');
  url.searchParams.set('token', token);
  return url;
}

export function gen2(where: string): LegacyLaneError {
  return new LegacyLaneError(
    'generation_2_endpoint',
    `${where} is a generation-2 Khala endpoint (per-topic websocket with {"type":…} frames); this client speaks ` +
      'the generation-1 Phoenix channel protocol (sync:v1 on /socket/websocket). Point it at a generation-1 lane.',
  );
}

/** A first frame that is a JSON object with a `type` is the generation-2 protocol. */
export function looksLikeGen2Frame(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return (
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof (v as { type?: unknown }).type === 'string'
    );
  } catch {
    return false;
  }
}
