/**
 * Contracts may only change compatibly. First the buf rules themselves on a copy of proto/, then
 * scripts/proto-breaking.ts choosing what to compare against in throwaway git repositories.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBreaking } from '../../scripts/proto-breaking.js';
import { REPO_ROOT, run, runBuf } from '../../scripts/proto-buf.js';

const ENVELOPE = 'proto/spacetime_sync/v1/envelope.proto';
const scratch = mkdtempSync(join(tmpdir(), 'proto-breaking-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh directory holding the current buf.yaml and proto/ (without generated code). */
function copyOfContracts(): string {
  const dir = join(scratch, `copy-${++counter}`);
  cpSync(join(REPO_ROOT, 'buf.yaml'), join(dir, 'buf.yaml'));
  cpSync(join(REPO_ROOT, 'proto'), join(dir, 'proto'), {
    recursive: true,
    filter: (src) => !src.startsWith(join(REPO_ROOT, 'proto', 'gen')),
  });
  return dir;
}

function edit(dir: string, file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`edit of ${file} matched nothing: ${from}`);
  writeFileSync(path, after);
}

/** Renumbers SyncEnvelope.kind from 3 to 30: same name, different wire identity. */
const renumberKind = (dir: string) => edit(dir, ENVELOPE, 'string kind = 3 [', 'string kind = 30 [');
/** Adds a new optional field to SyncEnvelope: old readers skip it, old writers leave it unset. */
const addTraceId = (dir: string) =>
  edit(dir, ENVELOPE, /(ProtocolVersion protocol_version = 10 \[[^\]]*\];)/, '$1\n  string trace_id = 11;');

describe('buf breaking rules (buf.yaml)', () => {
  it('fail a renumbered SyncEnvelope field and name it', () => {
    const dir = copyOfContracts();
    renumberKind(dir);
    const r = runBuf(['breaking', 'proto', '--against', join(REPO_ROOT, 'proto')], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/field "3" with name "kind" on message "SyncEnvelope"/);
  });

  it('pass an added field', () => {
    const dir = copyOfContracts();
    addTraceId(dir);
    const r = runBuf(['breaking', 'proto', '--against', join(REPO_ROOT, 'proto')], { cwd: dir });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});

const GIT_ID = ['-c', 'user.name=proto-test', '-c', 'user.email=proto-test@example.invalid'];
function git(repo: string, ...args: string[]): string {
  const r = run('git', [...GIT_ID, ...args], { cwd: repo });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}
function commitAll(repo: string, message: string): void {
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
}

/** A repository on main with one commit holding the current contracts. */
function repoOnMain(): string {
  const repo = copyOfContracts();
  git(repo, 'init', '-q', '-b', 'main');
  commitAll(repo, 'contracts');
  return repo;
}

/** repoOnMain plus a second commit making `change` to the contracts. */
function repoWithChange(change: (dir: string) => void): string {
  const repo = repoOnMain();
  change(repo);
  commitAll(repo, 'change');
  return repo;
}

describe('scripts/proto-breaking.ts', () => {
  it('on main, fails a breaking change against HEAD~1', () => {
    const outcome = checkBreaking(repoWithChange(renumberKind));
    expect(outcome.kind).toBe('breaking');
    if (outcome.kind !== 'breaking') return;
    expect(outcome.why).toBe('HEAD~1');
    expect(outcome.report).toMatch(/"kind" on message "SyncEnvelope"/);
  });

  it('on main, passes an additive change', () => {
    expect(checkBreaking(repoWithChange(addTraceId))).toMatchObject({ kind: 'compatible', why: 'HEAD~1' });
  });

  it('passes, saying why, when the previous commit has no proto/ yet', () => {
    const repo = join(scratch, `fresh-${++counter}`);
    cpSync(join(REPO_ROOT, 'buf.yaml'), join(repo, 'buf.yaml'));
    git(repo, 'init', '-q', '-b', 'main');
    commitAll(repo, 'before contracts');
    cpSync(join(copyOfContracts(), 'proto'), join(repo, 'proto'), { recursive: true });
    commitAll(repo, 'contracts');
    const outcome = checkBreaking(repo);
    expect(outcome.kind).toBe('skipped');
    expect(outcome.kind === 'skipped' && outcome.why).toMatch(/HEAD~1 \([0-9a-f]{12}\) has no proto\/ yet/);
  });

  it('deepens a shallow clone to reach HEAD~1', () => {
    const origin = repoWithChange(renumberKind);
    const clone = join(scratch, `shallow-${++counter}`);
    git(scratch, 'clone', '-q', '--depth', '1', `file://${origin}`, clone);
    expect(git(clone, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(checkBreaking(clone).kind).toBe('breaking');
  });

  it('on a branch, compares with the merge base, so an earlier breaking commit still fails', () => {
    const origin = repoOnMain();
    const clone = join(scratch, `branch-${++counter}`);
    git(scratch, 'clone', '-q', `file://${origin}`, clone);
    git(clone, 'checkout', '-q', '-b', 'feature');
    renumberKind(clone);
    commitAll(clone, 'breaking');
    addTraceId(clone);
    commitAll(clone, 'additive on top');
    const outcome = checkBreaking(clone);
    expect(outcome).toMatchObject({ kind: 'breaking', why: 'merge base of feature with origin/main' });
  });

  it('exits 1 from the command line on a breaking change, and 0 when there is none', () => {
    const script = join(REPO_ROOT, 'scripts/proto-breaking.ts');
    const breaking = run('tsx', [script], { cwd: repoWithChange(renumberKind) });
    expect(breaking.status).toBe(1);
    expect(breaking.stderr).toMatch(/breaks compatibility with HEAD~1[\s\S]*"kind"/);
    const additive = run('tsx', [script], { cwd: repoWithChange(addTraceId) });
    expect(additive.stdout).toMatch(/compatible with HEAD~1/);
    expect(additive.status).toBe(0);
  });
});
