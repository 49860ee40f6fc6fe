/**
 * Test-only: a runbook's steps are its ```sh blocks; they run in order, each in its own
 * `bash -euo pipefail`, with the variables the runbook documents and nothing else of the test's.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const RUNBOOKS_DIR = new URL('../../runbooks/', import.meta.url);
const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export interface RunbookStep {
  /** The nearest heading above the block, to name the step in failures. */
  readonly heading: string;
  readonly script: string;
}

export interface StepResult {
  readonly step: RunbookStep;
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export function runbookSteps(file: string): RunbookStep[] {
  const text = readFileSync(new URL(file, RUNBOOKS_DIR), 'utf8');
  const steps: RunbookStep[] = [];
  let heading = '';
  let block: string[] | undefined;
  for (const line of text.split('\n')) {
    if (block) {
      if (line.startsWith('```')) {
        steps.push({ heading, script: block.join('\n') });
        block = undefined;
      } else block.push(line);
    } else if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    else if (/^```(sh|bash)\s*$/.test(line)) block = [];
  }
  return steps;
}

function runStep(step: RunbookStep, env: Record<string, string>): Promise<StepResult> {
  // Only what a shell on an operator's machine has, plus the runbook's variables.
  const base = Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG'].flatMap((k) =>
      process.env[k] ? [[k, process.env[k] as string]] : [],
    ),
  );
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-euo', 'pipefail', '-c', step.script],
      { cwd: REPO_ROOT, env: { ...base, ...env }, timeout: 120_000 },
      (e, out, err) => resolve({ step, code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

/** Runs every step in order; stops at the first that fails and returns what ran. */
export async function runRunbook(file: string, env: Record<string, string>): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of runbookSteps(file)) {
    const r = await runStep(step, env);
    results.push(r);
    if (r.code !== 0) break;
  }
  return results;
}
