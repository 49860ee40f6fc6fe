/**
 * Every command of `spacetime-sync`, in the order `--help` lists them.
 *
 * To add a command: write `cli/commands/<name>.ts` exporting `register(program: Command)`, which
 * declares the command with commander (description, arguments, options with help text) and wraps its
 * handler in `action()` (it returns an ExitCode, or throws UsageError / UnreachableError). Then add
 * one import and one entry below. Keep the top of the file light: import heavy modules (kafkajs,
 * the SDK, protobuf code) with `await import()` inside the handler, so `--help` and every other
 * command stay fast. Shared flags (`--url`, `--json`, SpacetimeDB target, tokens) come from
 * ../options.ts; cli/main.test.ts checks `--help` of every command and subcommand.
 */
import type { Command } from 'commander';
import * as bridge from './bridge.js';
import * as cutover from './cutover.js';
import * as devhost from './devhost.js';
import * as dlqReplay from './dlq-replay.js';
import * as grant from './grant.js';
import * as head from './head.js';
import * as lag from './lag.js';
import * as legacyLane from './legacy-lane.js';
import * as parity from './parity.js';
import * as publish from './publish.js';
import * as retention from './retention.js';
import * as revoke from './revoke.js';
import * as shard from './shard.js';
import * as start from './start.js';
import * as status from './status.js';
import * as tail from './tail.js';
import * as token from './token.js';
import * as tokenKeys from './token-keys.js';

export const COMMANDS: ReadonlyArray<{ register(program: Command): void }> = [
  start,
  publish,
  tail,
  status,
  head,
  lag,
  grant,
  revoke,
  retention,
  shard,
  dlqReplay,
  bridge,
  parity,
  cutover,
  devhost,
  legacyLane,
  token,
  tokenKeys,
];
