/**
 * The SDK opens sockets with the global `WebSocket`, which Node 20 lacks. `ws` speaks the same
 * browser API (binaryType, onmessage/onclose, subprotocols), so install it once when missing.
 */
import { WebSocket as NodeWebSocket } from 'ws';

export function ensureWebSocket(): void {
  const g = globalThis as { WebSocket?: unknown };
  if (typeof g.WebSocket === 'undefined') g.WebSocket = NodeWebSocket;
}
