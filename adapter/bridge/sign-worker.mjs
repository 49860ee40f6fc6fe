// The bridge's signing thread (./thread-signer.ts): BIP-340 signatures cost two secp256k1 point
// multiplications each, which on the service's event loop competed with sync. Plain JavaScript so
// the same file runs from the sources (tests, tsx) and from dist/ (copied there by the build).
import { parentPort, workerData } from 'node:worker_threads';
import { finalizeEvent, setNostrWasm } from 'nostr-tools/wasm';
import { initNostrWasm } from 'nostr-wasm';

setNostrWasm(await initNostrWasm());
const secretKey = workerData.secretKey;

parentPort.on('message', (batch) => {
  try {
    parentPort.postMessage({ id: batch.id, events: batch.templates.map((t) => finalizeEvent(t, secretKey)) });
  } catch (e) {
    parentPort.postMessage({ id: batch.id, error: e instanceof Error ? e.message : String(e) });
  }
});
