/**
 * FLAC residuals through WebAssembly (../../assembly/flac-residual.ts, built into
 * flac-residual.wasm): the Rice codes read 64 bits at a time instead of JavaScript's
 * byte at a time (a RAVDESS clip's window decodes in 0.96 ms instead of 1.26). The kernel reads the whole file from
 * its own memory; one kernel per thread serves files up to SHARED_BYTES, a larger file
 * gets a kernel of its own that goes when its decode ends.
 */
import { compileWasm, ensureMemory, instantiateWasm } from '../wasm.js';

const wasmModule = compileWasm(new URL('./flac-residual.wasm', import.meta.url));

interface ResidualExports {
  residual(data: number, start: number, end: number, out: number, n: number, order: number): number;
}

/** The output: one block of one channel (at most 65536 samples). */
const OUT_BYTES = 65536 * 4;
const DATA_AT = OUT_BYTES;
/** Zero bytes after the file: the kernel reads 8 bytes from the byte holding any bit before the end. */
const TAIL = 16;
const SHARED_BYTES = 8 << 20;

export type ResidualOutcome = number | 'end-of-data' | 'bad-partitions' | 'reserved-method';

export class ResidualReader {
  private static shared: ResidualReader | undefined;

  /** A reader holding a copy of the file's bytes. */
  static of(bytes: Uint8Array): ResidualReader {
    if (bytes.length > SHARED_BYTES) return new ResidualReader(bytes);
    ResidualReader.shared ??= new ResidualReader(new Uint8Array(0));
    ResidualReader.shared.load(bytes);
    return ResidualReader.shared;
  }

  private readonly kernel = instantiateWasm<ResidualExports>(wasmModule);
  private endBits = 0;
  /** The decoded residual of the last call, at its sample indices. */
  out = new Int32Array(0);

  private constructor(bytes: Uint8Array) {
    this.load(bytes);
  }

  private load(bytes: Uint8Array): void {
    ensureMemory(this.kernel.memory, DATA_AT + bytes.length + TAIL);
    const memory = new Uint8Array(this.kernel.memory.buffer);
    memory.set(bytes, DATA_AT);
    memory.fill(0, DATA_AT + bytes.length, DATA_AT + bytes.length + TAIL);
    this.out = new Int32Array(this.kernel.memory.buffer, 0, OUT_BYTES / 4);
    this.endBits = bytes.length * 8;
  }

  /** Residual of n samples after `order` warm-up ones, from bit `start`, into out[order..n): the bit after it, or why not. */
  read(start: number, n: number, order: number): ResidualOutcome {
    const at = this.kernel.residual(DATA_AT, start, this.endBits, 0, n, order);
    if (at >= 0) return at;
    return at === -1 ? 'end-of-data' : at === -2 ? 'bad-partitions' : 'reserved-method';
  }
}
