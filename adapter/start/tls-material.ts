/**
 * The listener's TLS material, read at the very start: a missing or unreadable file stops the start
 * before anything listens, naming the variable and the file.
 */

import { readFileSync } from 'node:fs';
import type { ServiceConfig } from '../config.js';
import type { TlsMaterial } from '../http/http-server.js';

export function tlsMaterial(config: ServiceConfig): TlsMaterial | undefined {
  const t = config.ingest.tls;
  if (!t) return undefined;
  const read = (variable: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${variable}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  };
  return {
    cert: read('INGEST_TLS_CERT_FILE', t.certFile),
    key: read('INGEST_TLS_KEY_FILE', t.keyFile),
    ...(t.clientCaFile ? { ca: read('INGEST_TLS_CLIENT_CA_FILE', t.clientCaFile) } : {}),
  };
}
