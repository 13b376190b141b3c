/**
 * Where clips are computed. Features are CPU-bound (~3.4 ms for a 48 kHz clip), so on
 * the main thread concurrent requests queue behind each other and behind gRPC I/O;
 * a pool of worker threads lets them use every core.
 *   threads = 1: inline on the main thread (no transfer cost);
 *   threads = N >= 2: N workers, each computing one clip at a time.
 */
import { Worker } from 'node:worker_threads';
import { AudioError, type AudioErrorCode } from '@ser/audio';
import { GrpcError, status } from '@ser/grpc';
import type { Logger } from '@ser/observability';
import { computeClipFeatures, type FeatureJob, type FeatureResult } from './clip-features.js';
import type { WorkerReply, WorkerRequest } from './feature-worker.js';

export interface FeaturePool {
  readonly threads: number;
  compute(job: FeatureJob): Promise<FeatureResult>;
  close(): Promise<void>;
}

export async function createFeaturePool(threads: number, logger: Logger): Promise<FeaturePool> {
  if (threads <= 1) return { threads: 1, compute: computeClipFeatures, close: async () => {} };
  const pool = new WorkerPool(threads, logger);
  await pool.started;
  return pool;
}

interface Task {
  id: number;
  job: FeatureJob;
  resolve(result: FeatureResult): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | undefined;
}

const WORKER_FILE = new URL(`./feature-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Starts a worker. Source files run through tsx, which a worker does not inherit in
 * Node 20, so a .ts worker first registers tsx's loader, then imports the file.
 */
function spawnWorker(): Worker {
  if (!WORKER_FILE.pathname.endsWith('.ts')) return new Worker(WORKER_FILE);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(WORKER_FILE.href)}); })`;
  return new Worker(boot, { eval: true });
}

class WorkerPool implements FeaturePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closing = false;
  readonly started: Promise<void>;

  constructor(
    readonly threads: number,
    private readonly logger: Logger,
  ) {
    this.started = Promise.all(Array.from({ length: threads }, () => this.startSlot())).then(() => {});
  }

  compute(job: FeatureJob): Promise<FeatureResult> {
    if (this.closing) return Promise.reject(new GrpcError(status.UNAVAILABLE, 'the extractor is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const task of this.queue.splice(0)) task.reject(new GrpcError(status.UNAVAILABLE, 'the extractor is shutting down'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private startSlot(): Promise<void> {
    const slot: Slot = { worker: spawnWorker(), ready: false, task: undefined };
    this.slots.push(slot);
    return new Promise((resolve, reject) => {
      slot.worker.once('message', (first) => {
        if (first !== 'ready') return reject(new Error(`feature worker said ${String(first)} instead of ready`));
        slot.worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
        slot.ready = true;
        resolve();
        this.dispatch();
      });
      slot.worker.on('error', (err) => {
        this.logger.error({ err }, 'feature worker failed');
        reject(err);
      });
      slot.worker.on('exit', (code) => this.onExit(slot, code));
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!this.queue.length) return;
      if (slot.task || !slot.ready) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      // Copied, not transferred: the caller keeps its bytes (a model change may need them again).
      slot.worker.postMessage({ id: task.id, job: task.job } satisfies WorkerRequest);
    }
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const task = slot.task;
    slot.task = undefined;
    if (task?.id === reply.id) {
      if (reply.ok) task.resolve(reply.result);
      else task.reject(reviveError(reply.error));
    }
    this.dispatch();
  }

  /** A worker that dies takes only its own clip with it; a new one replaces it. */
  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    slot.task?.reject(new GrpcError(status.INTERNAL, `feature worker exited (code ${code})`));
    slot.task = undefined;
    if (this.closing) return;
    this.logger.warn({ code }, 'feature worker exited; starting another');
    this.startSlot().catch((err) => this.logger.error({ err }, 'could not start a feature worker'));
  }
}

/** Errors cross the thread boundary as plain objects; give them their class back for the status mapping. */
function reviveError(e: { name: string; message: string; code?: string | number; reason?: string }): Error {
  if (e.name === 'AudioError') return new AudioError(e.code as AudioErrorCode, e.message);
  if (e.name === 'GrpcError') return new GrpcError(e.code as status, e.message, { reason: e.reason });
  return new Error(e.message);
}
