/**
 * The WebAssembly kernels built from ../assembly (`pnpm --filter @ser/audio build:wasm`).
 *
 * Each instance gets a memory sized up front for what it will hold, because growing one
 * is not free beyond itself: it detaches the memory's old ArrayBuffer, and after the
 * first detach V8 checks for detached buffers on every typed-array access in the whole
 * thread, for good. A loop converting a clip's integer samples to floats went from 72 to
 * 111 µs once anything had grown. Pages that are never written cost no memory.
 */
import { readFileSync } from 'node:fs';

// The project's type libraries (ES2023, Node 20's types) leave out WebAssembly's globals.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

const WASM_PAGE = 65536;

/** Compiles a kernel's .wasm file (synchronously: they are a few kilobytes). */
export function compileWasm(url: URL): object {
  return new WebAssembly.Module(readFileSync(url));
}

/** A new instance of a compiled kernel, with a memory of its own of at least `bytes`. */
export function instantiateWasm<Exports>(module: object, bytes: number): Exports & { memory: WasmMemory } {
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / WASM_PAGE) });
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  return { ...(exports as Exports), memory };
}

/** Grows memory to at least `bytes`: only for the rare input larger than the memory was sized for (see above). */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE));
}
