import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/exit-codes.js';
import { GEN1_RULES } from '../mapping.js';
import { GEN1_TOPICS, parseDuration, parseFromEntry, parseRule, resolveParityArgs } from './options.js';

const base = { legacy: 'ws://127.0.0.1:4100/socket/websocket', candidate: 'ws://127.0.0.1:3000', db: 'sync' };
const env = { LEGACY_LANE_TOKEN: 'legacy-token' };

describe('parity options', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['500ms', 500],
    ['1.5', 1_500],
  ])('duration %s is %i ms', (raw, ms) => expect(parseDuration(raw)).toBe(ms));

  it('reads resume points per lane and doc-key rules', () => {
    expect(parseFromEntry('legacy:runtime.run_summaries=42')).toEqual({
      lane: 'legacy',
      name: 'runtime.run_summaries',
      position: 42n,
    });
    expect(parseFromEntry('candidate:run:1=7')).toEqual({ lane: 'candidate', name: 'run:1', position: 7n });
    expect(parseRule('t=doc/|run:|per-version')).toEqual({
      topic: 't',
      docKeyPrefix: 'doc/',
      streamPrefix: 'run:',
      perVersion: true,
    });
    for (const bad of [() => parseDuration('soon'), () => parseFromEntry('run:1=7'), () => parseRule('t=a')])
      expect(bad).toThrow(UsageError);
  });

  it('defaults to the gen-1 topics and projected_at, and keeps tokens out of arguments', () => {
    const a = resolveParityArgs(base, env);
    expect(a.topics).toEqual(GEN1_TOPICS);
    expect(a.volatileFields).toEqual(['projected_at']);
    expect(a.rules).toEqual(GEN1_RULES);
    expect(resolveParityArgs({ ...base, gen1DocKeys: false }, env).rules).toEqual([]);
    const own = parseRule('runtime.codex_worker_events=w/|w:');
    expect(resolveParityArgs({ ...base, docKeyRule: [own] }, env).rules).toEqual([own]);
    expect(a.legacyToken()).toBe('legacy-token');
    expect(() => resolveParityArgs(base, {})).toThrow(/LEGACY_LANE_TOKEN or --legacy-token-file/);
    expect(() => resolveParityArgs({ ...base, legacy: `${base.legacy}?token=x` }, env)).toThrow(
      /not in the URL/,
    );
    expect(() => resolveParityArgs({ ...base, legacy: 'http://127.0.0.1:4100' }, env)).toThrow(/ws:\/\//);
  });

  it('reads the legacy token file again on every connect (a refreshed token is picked up)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'parity-opts-')), 'token');
    writeFileSync(file, 'first\n');
    const a = resolveParityArgs({ ...base, legacyTokenFile: file }, {});
    expect(a.legacyToken()).toBe('first');
    writeFileSync(file, 'second\n');
    expect(a.legacyToken()).toBe('second');
    writeFileSync(file, '');
    expect(() => resolveParityArgs({ ...base, legacyTokenFile: file }, {})).toThrow(/is empty/);
  });
});
