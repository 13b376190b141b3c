/**
 * Scratch vectors for the hot loops: plain arrays of doubles rather than
 * Float64Arrays.
 *
 * V8 keeps an array that only ever held numbers, some of them non-integers, as
 * unboxed doubles (PACKED_DOUBLE_ELEMENTS), and indexes it with fewer checks
 * than a typed array: no external-pointer arithmetic, and no detached-buffer
 * test, which V8 adds to every typed-array access in the whole process once any
 * ArrayBuffer has been detached. That happens more often than one would think:
 * Node's ES-module loader detaches one when its WebAssembly CommonJS lexer grows
 * its memory for a large CommonJS module (onnxruntime's, for one). The FFT runs
 * about 20% faster on these arrays in a clean process and 40% faster after a
 * detach.
 *
 * They must stay packed and all-double: create them with `doubles`, never write
 * past their length or store anything but a number.
 */

/** A packed array of `length` double zeros. */
export function doubles(length: number): number[] {
  const out: number[] = [];
  // A non-integer first value makes the array double-backed from the start.
  for (let i = 0; i < length; i++) out.push(0.5);
  out.fill(0);
  return out;
}
