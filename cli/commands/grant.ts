/** `spacetime-sync grant writer|reader …` (see access.ts). */
import type { Command } from 'commander';
import { registerAccess } from './access.js';

export const register = (program: Command) => registerAccess(program, 'grant');
