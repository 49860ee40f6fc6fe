/**
 * What the run was measured on: the machine, how loaded it was at the start and the end (a shared
 * machine's load moves every figure), and the commit. Printed first and kept in the JSON record.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run started. */
  readonly loadAtStart: number;
  readonly commit: string;
  /** Uncommitted changes in the working tree when the run started. */
  readonly dirty: boolean;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function describeMachine(): Machine {
  return {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAtStart: os.loadavg()[0] ?? 0,
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  };
}

export function machineLine(m: Machine): string {
  const load = os.loadavg()[0] ?? 0;
  return `node ${m.node} · ${m.cpu} · ${m.cores} cores · ${m.memoryGiB} GiB · ${m.platform} · load average ${m.loadAtStart.toFixed(1)} at start, ${load.toFixed(1)} now · commit ${m.commit}${m.dirty ? ' (uncommitted changes)' : ''}`;
}
