/**
 * The bearer token the CLI sends to a spacetime-sync service: `SPACETIME_SYNC_TOKEN_FILE` (a file,
 * read when the command runs), else `SPACETIME_SYNC_TOKEN`, else — only for the service `npm start`
 * runs on this machine — a five-minute admin token minted with its local issuer's key, found the way
 * the owner token is (local-service.ts). Never from the command line, never printed.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './exit-codes.js';
import { readLocalService } from './local-service.js';

const LOCAL_TOKEN_TTL_S = 300;

export async function serviceToken(url: string): Promise<string | undefined> {
  const file = process.env.SPACETIME_SYNC_TOKEN_FILE?.trim();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new UsageError(
        `SPACETIME_SYNC_TOKEN_FILE: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
    }
    if (!text) throw new UsageError(`SPACETIME_SYNC_TOKEN_FILE: ${file} is empty`);
    return text;
  }
  const env = process.env.SPACETIME_SYNC_TOKEN?.trim();
  if (env) return env;
  const local = readLocalService();
  if (!local?.auth || local.url !== url) return undefined;
  const { mintLocalToken, readLocalIssuerKey } = await import('../adapter/auth/local-issuer.js');
  let key: ReturnType<typeof readLocalIssuerKey>;
  try {
    key = readLocalIssuerKey(local.auth.keyFile);
  } catch (e) {
    throw new UsageError(
      `cannot read the local issuer key ${local.auth.keyFile}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  return mintLocalToken(key, { roles: ['admin'], ttlS: LOCAL_TOKEN_TTL_S, audience: local.auth.audience });
}
