/**
 * One platform service running as its own Node.js process (through tsx), with its
 * JSON log lines passed on. It can be stopped gracefully (SIGTERM), killed
 * (SIGKILL, as a crash would) and started again with the same settings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * V8 flags every service runs with (compose's commands repeat them). V8 starts a
 * full mark-compact whenever the room left under the old generation's limit is less
 * than the young generation's 16 MB; with these services' live heaps (12-50 MB) that
 * was nearly always, one every 100-200 ms under load. A 128 MB floor under the limit
 * took 11% off the CPU of a single-clip request (README, "Speed of the platform").
 */
export const SERVICE_NODE_FLAGS = ['--initial-old-space-size=128'];

export type ServiceName = 'inference' | 'feature-extractor' | 'batch-worker' | 'gateway';

export interface ServiceProcessOptions {
  env: Record<string, string>;
  /** Where each log line goes (default: this process's stdout). */
  onLine?: (service: ServiceName, line: string) => void;
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;

  constructor(
    readonly name: ServiceName,
    private readonly options: ServiceProcessOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    // SER_NODE_ARGS: extra Node.js flags for every service (say `--cpu-prof`, which NODE_OPTIONS
    // refuses); after SERVICE_NODE_FLAGS, so that they can override them.
    const nodeArgs = [...SERVICE_NODE_FLAGS, ...(process.env.SER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const main = join(REPO_ROOT, 'services', this.name, 'src', 'main.ts');
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', main], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = this.options.onLine ?? ((_, line) => process.stdout.write(`${line}\n`));
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line) onLine(this.name, line);
      });
    }
    this.child = child;
    this.exited = once(child, 'exit');
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running || !this.child) return;
    const child = this.child;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Dies at once, as in a crash: nothing in flight is finished or handed back. */
  async kill(): Promise<void> {
    if (!this.running || !this.child) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Resolves with the exit code when the process ends on its own. */
  async exit(): Promise<number | null> {
    await this.exited;
    return this.child?.exitCode ?? null;
  }
}
