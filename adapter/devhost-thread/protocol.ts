/**
 * The messages between the service's thread and the embedded devhost's worker thread (./worker.ts).
 * Everything crosses by structured clone (bigint and Uint8Array included); the owner token crosses
 * only in `ready`, never on a command line or in a log.
 */
import type { EmbeddedDevhostOptions } from '../embedded-devhost.js';

export interface DevhostWorkerData {
  readonly options: EmbeddedDevhostOptions;
  /** Source mode only (./ts-boot.mjs): the TypeScript entry to import once tsx is registered. */
  readonly entry?: string;
}

export type ToDevhostThread =
  | { readonly type: 'trust-issuer'; readonly issuer: string }
  /** Committed rows of one table, decoded (tests and diagnostics read the datastore this way). */
  | { readonly type: 'table-rows'; readonly id: number; readonly database: string; readonly table: string }
  /** Stop devhost: close the listener, flush and close every commit log, then report `flushed`. */
  | { readonly type: 'stop' };

export type FromDevhostThread =
  | {
      readonly type: 'ready';
      readonly url: string;
      readonly port: number;
      readonly ownerToken: string;
      readonly ownerIdentity: bigint;
      /** The thread's Linux thread id (/proc/thread-self), for per-thread CPU figures; absent elsewhere. */
      readonly osThreadId?: number;
    }
  /** devhost could not start: the error as the in-thread start would have thrown it. */
  | {
      readonly type: 'start-failed';
      readonly message: string;
      readonly code?: string;
      readonly port?: number;
    }
  /** A module error or warning (devhost's log), for the service's logger. */
  | { readonly type: 'log'; readonly level: 'error' | 'warn'; readonly message: string }
  /** Why some database cannot commit, whenever that changes (empty: all can). */
  | { readonly type: 'commit-problems'; readonly problems: readonly string[] }
  | {
      readonly type: 'table-rows';
      readonly id: number;
      readonly rows?: readonly Record<string, unknown>[];
      readonly error?: string;
    }
  | { readonly type: 'flushed' };
