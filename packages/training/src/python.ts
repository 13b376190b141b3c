/** Runs the Python trainer with Debian's interpreter (python3-torch lives there, not in other Pythons on PATH). */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const PYTHON = process.env.SER_PYTHON ?? '/usr/bin/python3';
export const TRAINER = resolve(import.meta.dirname, '../../../training/train.py');
/** train.py's exit code when --max-minutes stopped it before it finished (resume later with --resume). */
export const EXIT_PAUSED = 3;

export function runTrainer(args: string[], options: { quiet?: boolean } = {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, [TRAINER, ...args], {
      stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', options.quiet ? 'pipe' : 'inherit'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    child.on('error', (err) => reject(new Error(`cannot run ${PYTHON}: ${err.message} (is python3-torch installed?)`)));
    child.on('close', (code) => {
      if (code === 0 || code === EXIT_PAUSED) resolvePromise(code);
      else reject(new Error(`the trainer failed with exit code ${code}${stderr ? `:\n${stderr}` : ''}`));
    });
  });
}
