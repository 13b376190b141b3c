/**
 * What the page checks before uploading (the gateway checks again and its answer
 * still counts): the formats it reads, the size of each file, how many in a job.
 */
export const AUDIO_EXTENSIONS = ['wav', 'flac', 'mp3', 'ogg', 'opus', 'm4a'] as const;
export const MAX_FILE_BYTES = 50 * 1024 * 1024;
export const MAX_FILES = 500;

/** The `accept` attribute of the file input. */
export const ACCEPT = [...AUDIO_EXTENSIONS.map((e) => `.${e}`), 'audio/*'].join(',');

export interface FileLike {
  name: string;
  size: number;
  type?: string;
}

export interface Rejection<F extends FileLike = FileLike> {
  file: F;
  reason: string;
}

export interface Selection<F extends FileLike = FileLike> {
  /** Files to send. */
  accepted: F[];
  /** Files left out, each with why. */
  rejected: Rejection<F>[];
  /** Set when the whole selection cannot be sent (nothing is accepted then). */
  problem?: string;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** Why one file would be refused, or null. */
export function fileProblem(file: FileLike, maxBytes = MAX_FILE_BYTES): string | null {
  const ext = extensionOf(file.name);
  if (!(AUDIO_EXTENSIONS as readonly string[]).includes(ext))
    return `not a supported audio file (${ext ? `.${ext}` : 'no extension'}); use WAV, FLAC, MP3, OGG, Opus or M4A`;
  if (file.size === 0) return 'the file is empty';
  if (file.size > maxBytes) return `${mb(file.size)} is over the ${mb(maxBytes)} limit per file`;
  return null;
}

function mb(bytes: number): string {
  const v = bytes / (1024 * 1024);
  return `${Number.isInteger(v) ? v : v.toFixed(1)} MB`;
}

/** Splits a selection into what can be sent and what cannot (with reasons). */
export function checkSelection<F extends FileLike>(
  files: readonly F[],
  limits = { maxBytes: MAX_FILE_BYTES, maxFiles: MAX_FILES },
): Selection<F> {
  const accepted: F[] = [];
  const rejected: Rejection<F>[] = [];
  for (const file of files) {
    const reason = fileProblem(file, limits.maxBytes);
    if (reason) rejected.push({ file, reason });
    else accepted.push(file);
  }
  if (accepted.length > limits.maxFiles)
    return {
      accepted: [],
      rejected,
      problem: `${accepted.length} files were chosen; one job takes at most ${limits.maxFiles}. Split them into several jobs.`,
    };
  return { accepted, rejected };
}
