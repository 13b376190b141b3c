/** Each checked-in .wasm kernel is exactly what its AssemblyScript source builds into. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const PACKAGE = resolve(import.meta.dirname, '..');
const scripts: Record<string, string> = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')).scripts;
const builds = Object.entries(scripts).filter(([name]) => name.startsWith('build:wasm:'));
const asc = join(dirname(createRequire(join(PACKAGE, 'package.json')).resolve('assemblyscript/package.json')), 'bin/asc.js');

describe('WebAssembly kernels (pnpm --filter @ser/audio build:wasm)', () => {
  it('are two: the MFCCs and the FLAC residuals', () => {
    expect(builds.map(([name]) => name).sort()).toEqual(['build:wasm:flac', 'build:wasm:mfcc']);
  });

  for (const [name, script] of builds) {
    it(`${name}: the checked-in file is what the source builds into`, () => {
      const args = script.split(/\s+/).slice(1);
      const output = args.indexOf('-o') + 1;
      const out = mkdtempSync(join(tmpdir(), 'wasm-build-'));
      try {
        const checkedIn = readFileSync(join(PACKAGE, args[output]));
        args[output] = join(out, 'kernel.wasm');
        execFileSync(process.execPath, [asc, ...args], { cwd: PACKAGE, stdio: 'pipe' });
        expect(Buffer.compare(readFileSync(args[output]), checkedIn)).toBe(0);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
