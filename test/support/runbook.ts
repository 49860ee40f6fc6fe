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

/** One step alone (e.g. a check run again in another situation than the runbook's walk). */
export function runStep(step: RunbookStep, env: Record<string, string>): Promise<StepResult> {
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

export interface RunbookScenario {
  /**
   * The exit code each step must end with, in order (default: every step 0). An incident runbook's
   * diagnosis steps exit 1 on purpose (e.g. `status` while a link is down), as the runbook says.
   */
  readonly codes?: readonly number[];
  /**
   * What happens in the world before the step under that heading runs: the change the runbook waits
   * for that no command of its own makes (e.g. SpacetimeDB comes back).
   */
  readonly before?: Readonly<Record<string, () => Promise<void>>>;
}

/** Runs every step in order; stops at the first that ends otherwise than expected and returns what ran. */
export async function runRunbook(
  file: string,
  env: Record<string, string>,
  scenario: RunbookScenario = {},
): Promise<StepResult[]> {
  const steps = runbookSteps(file);
  const unknown = Object.keys(scenario.before ?? {}).filter((h) => !steps.some((s) => s.heading === h));
  if (unknown.length) throw new Error(`${file} has no step under ${unknown.join(', ')}`);
  if (scenario.codes && scenario.codes.length !== steps.length) {
    throw new Error(
      `${file} has ${steps.length} steps, the scenario expects ${scenario.codes.length} exit codes`,
    );
  }
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) {
    // Once per heading, before its first block.
    if (steps.findIndex((s) => s.heading === step.heading) === i) await scenario.before?.[step.heading]?.();
    const r = await runStep(step, env);
    results.push(r);
    if (r.code !== (scenario.codes?.[i] ?? 0)) break;
  }
  return results;
}

/** Every step's output, for failure messages: heading, exit code, command, stdout and stderr. */
export function explain(results: readonly StepResult[]): string {
  return results
    .map((r) => `## ${r.step.heading} (exit ${r.code})\n$ ${r.step.script}\n${r.out}${r.err}`)
    .join('\n');
}
