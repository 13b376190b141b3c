/** The WebAssembly kernels built from ../assembly (`pnpm --filter @ser/audio build:wasm`). */
import { readFileSync } from 'node:fs';

// The project's type libraries (ES2023, Node 20's types) leave out WebAssembly's globals.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
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

/** A new instance of a compiled kernel, with its own memory. */
export function instantiateWasm<Exports>(module: object): Exports & { memory: WasmMemory } {
  return new WebAssembly.Instance(module, {}).exports as Exports & { memory: WasmMemory };
}

/** Grows memory to at least `bytes`. */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / WASM_PAGE));
}
