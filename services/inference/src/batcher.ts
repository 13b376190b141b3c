/**
 * Dynamic batching: concurrent requests are merged into one model run, because one
 * run of 32 rows costs far less than 32 runs of one (fixed per-run overhead).
 *
 * One run at a time. An idle batcher waits at most `maxDelayMs` for company after
 * the first request; while a run is in progress requests queue up and go together
 * in the next one, so under load batches grow by themselves and no time is spent
 * waiting. A request with more rows than `maxSize` runs alone. Requests whose
 * deadline passed while queued are answered DEADLINE_EXCEEDED without running, and
 * cancelled ones are dropped.
 */
import { GrpcError, status } from '@ser/grpc';
import type { InferenceMetrics } from './metrics.js';

/** Runs the model on `rows` rows; returns rows x classes probabilities, row-major. */
export type ModelRun = (input: Float32Array, rows: number) => Promise<Float32Array>;

export interface BatcherOptions {
  maxSize: number;
  maxDelayMs: number;
  vectorLength: number;
  classes: number;
  metrics?: InferenceMetrics;
}

export interface BatchItem {
  /** rows x vectorLength values. */
  input: Float32Array;
  rows: number;
  /** Epoch milliseconds; Infinity for none. */
  deadline: number;
  isCancelled?: () => boolean;
}

export interface BatchOutcome {
  /** This item's rows x classes probabilities. */
  probabilities: Float32Array;
  /** Rows in the model run the item was part of. */
  batchSize: number;
  queueMs: number;
  computeMs: number;
}

interface Pending {
  item: BatchItem;
  enqueuedAt: number;
  resolve(outcome: BatchOutcome): void;
  reject(err: Error): void;
}

export class DynamicBatcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly runModel: ModelRun,
    private readonly options: BatcherOptions,
  ) {}

  /** Rows waiting for a run. */
  get pendingRows(): number {
    return this.queuedRows;
  }

  submit(item: BatchItem): Promise<BatchOutcome> {
    if (this.closed) return Promise.reject(new GrpcError(status.UNAVAILABLE, 'inference is shutting down', { reason: 'SHUTTING_DOWN' }));
    if (item.input.length !== item.rows * this.options.vectorLength) {
      return Promise.reject(new GrpcError(status.INVALID_ARGUMENT, `${item.input.length} values is not ${item.rows} rows`));
    }
    if (item.deadline <= Date.now()) return Promise.reject(deadlineExceeded());
    return new Promise((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: performance.now(), resolve, reject });
      this.queuedRows += item.rows;
      this.schedule();
    });
  }

  /** Refuses new requests, runs everything queued, and resolves when the last run ends. */
  async drain(): Promise<void> {
    this.closed = true;
    if (!this.running && this.queue.length) this.start();
    while (this.running) await this.running;
  }

  private schedule(): void {
    if (this.running) return; // the loop takes the queue when the current run ends
    if (this.queuedRows >= this.options.maxSize || this.options.maxDelayMs === 0 || this.closed) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.options.maxDelayMs);
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length) {
      const batch = this.take();
      if (batch.length) await this.run(batch);
    }
  }

  /** The next batch from the head of the queue, answering expired and cancelled requests on the way. */
  private take(): Pending[] {
    const now = Date.now();
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length) {
      const next = this.queue[0];
      if (next.item.isCancelled?.() || next.item.deadline <= now) {
        this.dequeue();
        next.reject(next.item.deadline <= now ? deadlineExceeded() : new GrpcError(status.CANCELLED, 'cancelled by the caller'));
        continue;
      }
      if (rows > 0 && rows + next.item.rows > this.options.maxSize) break;
      batch.push(this.dequeue());
      rows += next.item.rows;
      if (rows >= this.options.maxSize) break;
    }
    return batch;
  }

  private dequeue(): Pending {
    const pending = this.queue.shift()!;
    this.queuedRows -= pending.item.rows;
    return pending;
  }

  private async run(batch: Pending[]): Promise<void> {
    const { vectorLength, classes, metrics } = this.options;
    const rows = batch.reduce((sum, p) => sum + p.item.rows, 0);
    let input: Float32Array;
    if (batch.length === 1) input = batch[0].item.input;
    else {
      input = new Float32Array(rows * vectorLength);
      let at = 0;
      for (const p of batch) {
        input.set(p.item.input, at);
        at += p.item.input.length;
      }
    }
    const started = performance.now();
    metrics?.batchSize.observe(rows);
    metrics?.rows.inc(rows);
    for (const p of batch) metrics?.queueSeconds.observe((started - p.enqueuedAt) / 1000);
    let output: Float32Array;
    try {
      output = await this.runModel(input, rows);
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    const computeMs = performance.now() - started;
    metrics?.computeSeconds.observe(computeMs / 1000);
    let row = 0;
    for (const p of batch) {
      p.resolve({
        probabilities: output.subarray(row * classes, (row + p.item.rows) * classes),
        batchSize: rows,
        queueMs: started - p.enqueuedAt,
        computeMs,
      });
      row += p.item.rows;
    }
  }
}

function deadlineExceeded(): GrpcError {
  return new GrpcError(status.DEADLINE_EXCEEDED, 'the deadline passed before the request could run', { reason: 'DEADLINE_EXCEEDED' });
}
