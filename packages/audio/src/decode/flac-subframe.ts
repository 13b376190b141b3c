/**
 * A FLAC subframe's hot loops in WebAssembly (../../assembly/flac-subframe.ts, built into
 * flac-subframe.wasm): the Rice codes read 64 bits at a time instead of JavaScript's
 * byte at a time, and the prediction restored in 64-bit integers instead of doubles
 * rounded down (the window of a RAVDESS clip decodes in 0.95 ms instead of 1.27 with the
 * prediction in JavaScript). The kernel reads the whole file from its own memory; one
 * kernel per thread serves files up to SHARED_BYTES, its memory sized for them once, and
 * a larger file gets a kernel of its own that goes when its decode ends.
 */
import { compileWasm, instantiateWasm } from '../wasm.js';

const wasmModule = compileWasm(new URL('./flac-subframe.wasm', import.meta.url));

interface SubframeExports {
  residual(data: number, start: number, end: number, out: number, n: number, order: number): number;
  restore(samples: number, n: number, coefs: number, order: number, shift: number): void;
}

/** The samples: one block of one channel (at most 65536). */
const SAMPLES_BYTES = 65536 * 4;
/** The predictor's coefficients: at most 32, zeros after the last. */
const COEFS_AT = SAMPLES_BYTES;
const MAX_ORDER = 32;
const DATA_AT = COEFS_AT + MAX_ORDER * 4;
/** Zero bytes after the file: the kernel reads 8 bytes from the byte holding any bit before the end. */
const TAIL = 16;
const SHARED_BYTES = 8 << 20;

export type ResidualOutcome = number | 'end-of-data' | 'bad-partitions' | 'reserved-method';

export class SubframeKernel {
  private static shared: SubframeKernel | undefined;

  /** A kernel holding a copy of the file's bytes. */
  static of(bytes: Uint8Array): SubframeKernel {
    if (bytes.length > SHARED_BYTES) return new SubframeKernel(bytes, bytes.length);
    SubframeKernel.shared ??= new SubframeKernel(new Uint8Array(0), SHARED_BYTES);
    SubframeKernel.shared.load(bytes);
    return SubframeKernel.shared;
  }

  private readonly kernel: ReturnType<typeof instantiateWasm<SubframeExports>>;
  private endBits = 0;
  /** The subframe's samples: its warm-up samples go in first, then come the residual and the restored samples. */
  readonly samples: Int32Array;
  private readonly coefs: Int32Array;

  /** With room for files of up to `fileBytes` (see ../wasm.ts). */
  private constructor(bytes: Uint8Array, fileBytes: number) {
    this.kernel = instantiateWasm<SubframeExports>(wasmModule, DATA_AT + fileBytes + TAIL);
    this.samples = new Int32Array(this.kernel.memory.buffer, 0, SAMPLES_BYTES / 4);
    this.coefs = new Int32Array(this.kernel.memory.buffer, COEFS_AT, MAX_ORDER);
    this.load(bytes);
  }

  private load(bytes: Uint8Array): void {
    const memory = new Uint8Array(this.kernel.memory.buffer);
    memory.set(bytes, DATA_AT);
    memory.fill(0, DATA_AT + bytes.length, DATA_AT + bytes.length + TAIL);
    this.endBits = bytes.length * 8;
  }

  /** Residual of n samples after `order` warm-up ones, from bit `start`, into samples[order..n): the bit after it, or why not. */
  residual(start: number, n: number, order: number): ResidualOutcome {
    const at = this.kernel.residual(DATA_AT, start, this.endBits, 0, n, order);
    if (at >= 0) return at;
    return at === -1 ? 'end-of-data' : at === -2 ? 'bad-partitions' : 'reserved-method';
  }

  /** samples[order..n) from their residual: samples[i] += (sum of coefs[j] * samples[i-1-j]) >> shift. */
  restore(n: number, coefs: ArrayLike<number>, shift: number): void {
    this.coefs.fill(0);
    this.coefs.set(coefs);
    this.kernel.restore(0, n, COEFS_AT, coefs.length, shift);
  }
}
