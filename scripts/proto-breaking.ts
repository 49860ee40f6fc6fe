/**
 * `buf breaking` for proto/ against the contracts of the previous commit on main: the merge base with
 * origin/main on a feature branch, HEAD~1 on main itself. The old tree is exported with `git archive`,
 * so nothing is checked out. When there is nothing to compare against (no parent, no proto/ in it yet,
 * history too shallow and not deepenable) it says why and passes.
 *
 *   node --import tsx scripts/proto-breaking.ts [--against <git ref>]
 *
 * Works on the git repository containing the current directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { run, runBuf } from './proto-buf.js';

const PROTO_DIR = 'proto';
const DEEPEN_TIMEOUT_MS = 60_000;

export type BaseResolution =
  | { readonly kind: 'found'; readonly commit: string; readonly why: string }
  | { readonly kind: 'skip'; readonly why: string };

function git(repo: string, args: readonly string[], timeoutMs?: number) {
  return run('git', args, { cwd: repo, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

function verifyCommit(repo: string, ref: string): string | undefined {
  const r = git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Fetches one more level of history into a shallow clone; says whether it worked. */
function tryDeepen(repo: string): boolean {
  if (git(repo, ['rev-parse', '--is-shallow-repository']).stdout.trim() !== 'true') return false;
  const remotes = git(repo, ['remote']).stdout.split('\n').filter(Boolean);
  const remote = remotes.includes('origin') ? 'origin' : remotes[0];
  if (remote === undefined) return false;
  return git(repo, ['fetch', '--quiet', '--deepen=1', remote], DEEPEN_TIMEOUT_MS).status === 0;
}

/** The commit whose proto/ HEAD's proto/ must stay compatible with. */
export function resolveBase(repo: string): BaseResolution {
  const head = verifyCommit(repo, 'HEAD');
  if (head === undefined) return { kind: 'skip', why: 'the repository has no commits yet' };
  const branch = git(repo, ['rev-parse', '--abbrev-ref', 'HEAD']).stdout.trim();
  if (branch !== 'main' && verifyCommit(repo, 'origin/main') !== undefined) {
    const mb = git(repo, ['merge-base', 'HEAD', 'origin/main']);
    const base = mb.stdout.trim();
    // On a commit of main itself (e.g. a detached checkout) the merge base is HEAD: fall through.
    if (mb.status === 0 && base !== head) {
      return { kind: 'found', commit: base, why: `merge base of ${branch} with origin/main` };
    }
  }
  let parent = verifyCommit(repo, 'HEAD~1');
  if (parent === undefined && tryDeepen(repo)) parent = verifyCommit(repo, 'HEAD~1');
  if (parent !== undefined) return { kind: 'found', commit: parent, why: 'HEAD~1' };
  const shallow = git(repo, ['rev-parse', '--is-shallow-repository']).stdout.trim() === 'true';
  return {
    kind: 'skip',
    why: shallow
      ? "HEAD's parent is not in this shallow clone and `git fetch --deepen=1` could not fetch it"
      : 'HEAD has no parent commit',
  };
}

function hasPath(repo: string, commit: string, path: string): boolean {
  return git(repo, ['ls-tree', '--name-only', commit, '--', path]).stdout.trim() !== '';
}

export type BreakingOutcome =
  | { readonly kind: 'skipped'; readonly why: string }
  | { readonly kind: 'compatible'; readonly base: string; readonly why: string }
  | { readonly kind: 'breaking'; readonly base: string; readonly why: string; readonly report: string };

/** Compares `repo`'s working proto/ with proto/ (and buf.yaml) as of `againstRef`, or the resolved base. */
export function checkBreaking(repo: string, againstRef?: string): BreakingOutcome {
  let base: BaseResolution;
  if (againstRef === undefined) base = resolveBase(repo);
  else {
    const commit = verifyCommit(repo, againstRef);
    base =
      commit === undefined
        ? { kind: 'skip', why: `${againstRef} is not a commit here` }
        : { kind: 'found', commit, why: againstRef };
  }
  if (base.kind === 'skip') return { kind: 'skipped', why: base.why };
  const short = base.commit.slice(0, 12);
  if (!hasPath(repo, base.commit, PROTO_DIR)) {
    return { kind: 'skipped', why: `${base.why} (${short}) has no ${PROTO_DIR}/ yet` };
  }
  const old = mkdtempSync(join(tmpdir(), 'proto-breaking-'));
  try {
    const paths = [PROTO_DIR, ...(hasPath(repo, base.commit, 'buf.yaml') ? ['buf.yaml'] : [])];
    const tar = execFileSync('git', ['archive', '--format=tar', base.commit, '--', ...paths], {
      cwd: repo,
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', old], { input: tar });
    const result = runBuf(['breaking', PROTO_DIR, '--against', join(old, PROTO_DIR)], { cwd: repo });
    if (result.status === 0) return { kind: 'compatible', base: base.commit, why: base.why };
    return { kind: 'breaking', base: base.commit, why: base.why, report: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
}

function main(): number {
  const { values } = parseArgs({ options: { against: { type: 'string' } } });
  const repo = git(process.cwd(), ['rev-parse', '--show-toplevel']).stdout.trim() || process.cwd();
  const outcome = checkBreaking(repo, values.against);
  switch (outcome.kind) {
    case 'skipped':
      console.log(`proto:breaking: nothing to compare against: ${outcome.why}`);
      return 0;
    case 'compatible':
      console.log(
        `proto:breaking: ${PROTO_DIR}/ is compatible with ${outcome.why} (${outcome.base.slice(0, 12)})`,
      );
      return 0;
    case 'breaking':
      process.stderr.write(
        `proto:breaking: ${PROTO_DIR}/ breaks compatibility with ${outcome.why} (${outcome.base.slice(0, 12)}):\n${outcome.report}`,
      );
      return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
