import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run } from '../../scripts/proto-buf.js';
import { diffTrees, isClean } from '../../scripts/proto-check.js';

const scratch = mkdtempSync(join(tmpdir(), 'proto-check-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(scratch, name);
  mkdirSync(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('diffTrees', () => {
  it('sorts differences into missing, changed and extra files, nested folders included', () => {
    const expected = tree('expected', { 'a/x_pb.ts': 'x', 'a/b/y_pb.ts': 'y', 'z_pb.ts': 'z' });
    const actual = tree('actual', { 'a/x_pb.ts': 'x', 'a/b/y_pb.ts': 'y2', 'old_pb.ts': 'o' });
    const diff = diffTrees(expected, actual);
    expect(diff).toEqual({ missing: ['z_pb.ts'], changed: ['a/b/y_pb.ts'], extra: ['old_pb.ts'] });
    expect(isClean(diff)).toBe(false);
  });

  it('finds identical trees clean, and treats an absent committed tree as all missing', () => {
    const files = { 'a/x_pb.ts': 'x' };
    expect(isClean(diffTrees(tree('same-1', files), tree('same-2', files)))).toBe(true);
    expect(diffTrees(tree('only', files), join(scratch, 'nowhere')).missing).toEqual(['a/x_pb.ts']);
  });
});

describe('scripts/proto-check.ts', () => {
  const script = join(REPO_ROOT, 'scripts/proto-check.ts');

  it('passes on the committed proto/gen (the .proto files and generated code agree)', () => {
    const r = run('tsx', [script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/proto\/gen is up to date/);
    expect(r.status).toBe(0);
  });

  it('fails with exit 1 and lists each file when the generated code is out of date', () => {
    const copy = join(scratch, 'gen-copy');
    cpSync(join(REPO_ROOT, 'proto/gen'), copy, { recursive: true });
    writeFileSync(join(copy, 'spacetime_sync/v1/bridge_pb.ts'), '// edited by hand\n');
    rmSync(join(copy, 'spacetime_sync/v1/compute_pb.ts'));
    writeFileSync(join(copy, 'spacetime_sync/v1/removed_pb.ts'), '');
    const r = run('tsx', [script, '--against', copy]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing\s+spacetime_sync\/v1\/compute_pb\.ts/);
    expect(r.stderr).toMatch(/outdated\s+spacetime_sync\/v1\/bridge_pb\.ts/);
    expect(r.stderr).toMatch(/stale\s+spacetime_sync\/v1\/removed_pb\.ts/);
  });
});
