/** Test support: throwaway data directories and a recording warning sink. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Durability } from '../types.js';
import { workloadTx } from './crash-model.js';

const made: string[] = [];

export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'devhost-durability-'));
  made.push(dir);
  return dir;
}

export function removeTempDataDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Appends workload txs `from..to` (inclusive). */
export function appendWorkload(d: Durability, from: bigint, to: bigint): void {
  for (let o = from; o <= to; o++) d.append(workloadTx(o));
}

export function files(dir: string): string[] {
  return readdirSync(dir).sort();
}

export function warnings(): { readonly messages: string[]; readonly onWarning: (m: string) => void } {
  const messages: string[] = [];
  return { messages, onWarning: (m) => messages.push(m) };
}
