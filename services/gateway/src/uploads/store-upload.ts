/**
 * Streams one uploaded file into object storage without holding it in memory:
 * the first bytes are read to judge the content, then everything flows to the
 * store (in 5 MiB parts when large) while SHA-256 and the byte count are taken
 * on the fly.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import type { AudioFormat } from '@ser/audio';
import { SUPPORTED_FORMATS } from '@ser/audio';
import { type ObjectStore, PART_SIZE } from '@ser/storage';
import { ApiError } from '../errors.js';
import { contentTypeOf, SNIFF_BYTES, sniffAudio } from './content-type.js';
import { sanitizeFilename } from './filename.js';

export interface StoredUpload {
  stored: true;
  objectKey: string;
  filename: string;
  contentType: string;
  format: AudioFormat;
  bytes: number;
  sha256: string;
  /** Resolves once the object is in the store: at once, unless stored in the background. */
  done: Promise<void>;
  /** The whole file, when `keepBody` asked for it and it was read whole (a small file). */
  body?: Buffer;
}

/** A file that is not audio we can decode: nothing of it was stored. */
export interface RejectedUpload {
  stored: false;
  filename: string;
  bytes: number;
  sha256: string;
  errorCode: 'UNSUPPORTED_FORMAT' | 'EMPTY';
  error: string;
}

export type Upload = StoredUpload | RejectedUpload;

export const fileTooLarge = (maxFileBytes: number) =>
  new ApiError(413, 'file_too_large', `a file is larger than the limit of ${maxFileBytes} bytes`);

export const unsupportedMedia = (filename: string, message: string, reason: RejectedUpload['errorCode']) =>
  new ApiError(415, 'unsupported_media_type', `${filename}: ${message}`, reason);

/** An empty file is no media type at all: the request is wrong, not the format. */
export const emptyFile = (filename: string) => new ApiError(400, 'empty_file', `${filename}: the file is empty`, 'EMPTY');

export interface StoreUploadOptions {
  objectKey: string;
  maxFileBytes: number;
  /** Read a rejected file to its end (needed to get at the next part of a batch). */
  drainRejected: boolean;
  /**
   * Return as soon as a small file has been read, its store write going on in the
   * background (`done`): the caller reads the next part, or classifies the bytes,
   * meanwhile. A larger file is streamed to the store and awaited as usual.
   */
  background?: boolean;
  /** Hand a small file's bytes back (`body`). */
  keepBody?: boolean;
}

/** Up to one part a file is read whole before it is stored: the store's client would buffer it anyway. */
const SMALL_FILE_BYTES = PART_SIZE;

/** Counts and hashes what flows through. */
class Digest {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  add(chunk: Buffer): Buffer {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    return chunk;
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

export async function storeUpload(store: ObjectStore, part: MultipartFile, options: StoreUploadOptions): Promise<Upload> {
  const filename = sanitizeFilename(part.filename);
  const chunks = part.file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const digest = new Digest();

  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(digest.add(next.value));
    headBytes += next.value.length;
  }
  const throwIfTruncated = () => {
    // busboy stops a file at the limit and flags it; the rest of the upload is lost.
    if (part.file.truncated) throw fileTooLarge(options.maxFileBytes);
  };

  const format = sniffAudio(Buffer.concat(head));
  if (!format) {
    const empty = headBytes === 0;
    const error = empty ? 'the file is empty' : `not a recognised audio file (supported: ${SUPPORTED_FORMATS})`;
    const errorCode = empty ? 'EMPTY' : 'UNSUPPORTED_FORMAT';
    if (!options.drainRejected) throw empty ? emptyFile(filename) : unsupportedMedia(filename, error, errorCode);
    if (!ended) for (let next = await chunks.next(); !next.done; next = await chunks.next()) digest.add(next.value);
    throwIfTruncated();
    return { stored: false, filename, bytes: digest.bytes, sha256: digest.hex(), errorCode, error };
  }

  // The stream handed to the store never fails: the minio client does not handle a
  // failing source stream (the put hangs and the error goes uncaught). A cut-off part
  // or a file over the limit ends it early instead; what was stored is then removed.
  let sourceError: unknown;
  async function* body(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    try {
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield digest.add(next.value);
    } catch (err) {
      sourceError = err;
    }
  }
  const contentType = contentTypeOf(format);
  const stored = { stored: true, objectKey: options.objectKey, filename, contentType, format } as const;
  if (options.background) {
    let bytes = headBytes;
    while (!ended && bytes <= SMALL_FILE_BYTES) {
      const next = await chunks.next();
      if (next.done) ended = true;
      else {
        head.push(digest.add(next.value));
        bytes += next.value.length;
      }
    }
    if (ended) {
      throwIfTruncated();
      const whole = Buffer.concat(head);
      const sha256 = digest.hex();
      const done = store.put(options.objectKey, whole, { contentType, sha256 });
      done.catch(() => {}); // the caller awaits it; until then a failure is not "unhandled"
      return { ...stored, bytes: digest.bytes, sha256, done, ...(options.keepBody ? { body: whole } : {}) };
    }
  }
  try {
    await store.put(options.objectKey, Readable.from(body()), { contentType });
    if (sourceError) throw sourceError;
    throwIfTruncated();
  } catch (err) {
    await store.remove(options.objectKey).catch(() => {});
    throw err;
  }
  return { ...stored, bytes: digest.bytes, sha256: digest.hex(), done: Promise.resolve() };
}
