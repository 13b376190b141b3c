/** The dynamic batcher around the real model: deadlines, cancellation, oversized requests, draining. */
import { GrpcError, status } from '@ser/grpc';
import { ModelBundle } from '@ser/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicBatcher } from '../src/batcher.js';
import { DEFAULT_MODEL_DIR } from '../src/config.js';

let bundle: ModelBundle;
let runs: number[];

beforeAll(async () => {
  bundle = await ModelBundle.load(DEFAULT_MODEL_DIR);
});
afterAll(() => bundle?.close());

function batcher(maxSize: number, maxDelayMs: number): DynamicBatcher {
  runs = [];
  const classes = bundle.manifest.labels.length;
  return new DynamicBatcher(
    async (input, rows) => {
      runs.push(rows);
      const out = new Float32Array(rows * classes);
      for (const [r, p] of (await bundle.predictScaled(input)).entries()) out.set(p, r * classes);
      return out;
    },
    { maxSize, maxDelayMs, vectorLength: bundle.vectorLength, classes },
  );
}

const item = (rows: number, deadline = Number.POSITIVE_INFINITY, isCancelled?: () => boolean) => ({
  input: new Float32Array(rows * bundle.vectorLength).fill(0.1),
  rows,
  deadline,
  isCancelled,
});

describe('DynamicBatcher', () => {
  it('does not run a request whose deadline passes while it waits, nor a cancelled one', async () => {
    const b = batcher(32, 30);
    const kept = b.submit(item(1));
    const late = b.submit(item(1, Date.now() + 5));
    const cancelled = b.submit(item(1, Number.POSITIVE_INFINITY, () => true));
    await expect(late).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await expect(cancelled).rejects.toMatchObject({ code: status.CANCELLED });
    expect((await kept).batchSize).toBe(1);
    expect(runs).toEqual([1]);
  });

  it('refuses a request already past its deadline without queueing it', async () => {
    const b = batcher(32, 1);
    await expect(b.submit(item(1, Date.now() - 1))).rejects.toBeInstanceOf(GrpcError);
    expect(b.pendingRows).toBe(0);
  });

  it('runs a request larger than the batch limit alone, and fills batches up to the limit', async () => {
    const b = batcher(4, 10);
    const outcomes = await Promise.all([b.submit(item(6)), b.submit(item(1)), b.submit(item(2)), b.submit(item(1)), b.submit(item(1))]);
    expect(runs).toEqual([6, 4, 1]);
    expect(outcomes.map((o) => o.batchSize)).toEqual([6, 4, 4, 4, 1]);
    expect(outcomes[0].probabilities.length).toBe(6 * 8);
  });

  it('runs what is queued when drained, then refuses new requests', async () => {
    const b = batcher(32, 10_000);
    const queued = [b.submit(item(1)), b.submit(item(2))];
    await b.drain();
    expect((await Promise.all(queued)).map((o) => o.batchSize)).toEqual([3, 3]);
    await expect(b.submit(item(1))).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});
