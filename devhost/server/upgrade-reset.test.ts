/**
 * A client that resets its connection while devhost is still verifying its token (fetching a
 * third-party issuer's keys can take a while) must cost devhost nothing: Node hands the raw socket
 * to the upgrade handler without an error listener, so an unguarded reset there is an uncaught
 * ECONNRESET that ends the whole host. Seen in a full run, when a killed adapter reconnected.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, it } from 'vitest';
import type { DevhostDatabase } from '../host/index.js';
import { type DevhostServer, startServer } from './index.js';
import { openTestDatabase, RawClient, registry } from './testing/e2e-harness.js';

let db: DevhostDatabase;
let server: DevhostServer;
let issuer: Server;
let issuerUrl = '';
/** Discovery requests the issuer holds unanswered until the test lets them go. */
const held: ServerResponse[] = [];
let heldRequest: (() => void) | undefined;

beforeAll(async () => {
  issuer = createServer((_req: IncomingMessage, res: ServerResponse) => {
    held.push(res);
    heldRequest?.();
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  db = await openTestDatabase('reset');
  server = await startServer({ databases: registry(db), trustedIssuers: [issuerUrl] });
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await server.close();
  await new Promise((r) => issuer.close(r));
  await db.close();
});

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

it('keeps serving after a client resets its socket while its token is being verified', async () => {
  // Its signature is never looked at: verifying stops at fetching the issuer's discovery document.
  const token = [
    b64({ alg: 'ES256', kid: 'k1', typ: 'JWT' }),
    b64({ iss: issuerUrl, aud: 'spacetime-sync', sub: 'u:d:s', exp: Math.floor(Date.now() / 1000) + 300 }),
    'c2lnbmF0dXJl',
  ].join('.');
  const fetching = new Promise<void>((r) => {
    heldRequest = r;
  });
  const { hostname, port } = new URL(server.url);
  const socket = tcpConnect(Number(port), hostname);
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(
    [
      'GET /v1/database/reset/subscribe HTTP/1.1',
      `Host: ${hostname}:${port}`,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol: v2.bsatn.spacetimedb',
      `Authorization: Bearer ${token}`,
      '',
      '',
    ].join('\r\n'),
  );
  await fetching;
  socket.resetAndDestroy();
  await new Promise((r) => socket.once('close', r));
  // Let the verification finish (and fail) now that its socket is gone.
  for (const res of held.splice(0)) res.writeHead(503).end();

  // The host is still there for everyone else.
  const client = await RawClient.open(server.url, 'reset');
  try {
    await client.next('InitialConnection');
  } finally {
    await client.close();
  }
});
