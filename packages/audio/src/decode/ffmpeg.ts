/** ffmpeg as a fallback decoder for containers the built-in WebAssembly decoders can't handle. */
import { spawn } from 'node:child_process';
import { AudioError } from '../errors.js';

const TIMEOUT_MS = 60_000;

/** Runs ffmpeg over the bytes and returns 32-bit float WAV bytes (all channels, native rate). */
export function ffmpegToWav(bytes: Uint8Array, label: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-nostdin', '-v', 'error', '-i', 'pipe:0', '-vn', '-f', 'wav', '-c:a', 'pcm_f32le', 'pipe:1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new AudioError('DECODER_MISSING', `decoding ${label} needs ffmpeg, which is not installed (apt-get install ffmpeg)`)
          : new AudioError('DECODE_FAILED', `ffmpeg could not run: ${e.message}`, { cause: e }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(new Uint8Array(Buffer.concat(out)));
      else
        reject(
          new AudioError('DECODE_FAILED', `ffmpeg could not decode this ${label} file: ${err.trim().split('\n').pop() ?? `exit ${code}`}`),
        );
    });
    // A decoder that stops reading early closes stdin; that is reported through 'close'.
    child.stdin.on('error', () => {});
    child.stdin.end(bytes);
  });
}
