/**
 * What the cutover tests publish on a dual stack: authority events for a few streams on one authority
 * topic, seqs counted once for all of them (so every event's seq is unique and increasing), and the
 * owner's token in a 0600 file, as an operator's runbook reads `CUTOVER_ADMIN_TOKEN_FILE`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DualStack } from '../../parity/testing/dual-stack.js';
import { syncEnvelope } from '../../support/envelopes.js';

export class AuthorityLog {
  private next = 1n;
  private readonly lastOf = new Map<string, bigint>();

  constructor(
    private readonly stack: DualStack,
    readonly topic: string,
    readonly streams: readonly string[],
  ) {}

  /** The last authority seq handed out (0 before any). */
  get lastSeq(): bigint {
    return this.next - 1n;
  }

  /** The authority seq of the last event `produce` published on `stream` (0 before any). */
  lastSeqOf(stream: string): bigint {
    return this.lastOf.get(stream) ?? 0n;
  }

  /** The next authority seq, for an event a test builds itself (an injected fault). */
  takeSeq(): bigint {
    return this.next++;
  }

  /** `perStream` more events on every stream, in authority order, on the stack's shared log. */
  async produce(perStream = 1): Promise<void> {
    const envs = [];
    for (let i = 0; i < perStream; i++) {
      for (const s of this.streams) {
        const seq = this.takeSeq();
        this.lastOf.set(s, seq);
        envs.push(syncEnvelope(s, `${s}#${seq}`, `{"n":${seq}}`, seq, { authorityTopic: this.topic }));
      }
    }
    await this.stack.produce(this.stack.shared, envs);
  }
}

/** The stack owner's token (a cutover admin) in a fresh 0600 file; returns its path. */
export function ownerTokenFile(stack: DualStack): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cutover-admin-')), 'token');
  writeFileSync(file, stack.ownerToken, { mode: 0o600 });
  return file;
}
