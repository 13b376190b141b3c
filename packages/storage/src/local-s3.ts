/**
 * A small S3-compatible server on loopback, so the platform runs with no MinIO
 * (real MinIO runs in infra/docker-compose.yml). It serves what the platform's
 * ObjectStore asks of S3, path-style: bucket HEAD/PUT, object PUT/GET (with Range)/
 * HEAD/DELETE, and multipart uploads. A bucket is a directory holding one pack file,
 * to which every object's bytes are appended, and a journal of each object's place in
 * it, content type and ETag, so that objects survive a restart. One file per object
 * (as before) cost a file creation per upload, which ext4 makes slow once many files
 * have been deleted recently (it skips their inodes one by one): up to a millisecond
 * of CPU per object in the benchmark. Objects stored as files by that earlier layout
 * are still read. The space of a deleted object is not reclaimed: the platform deletes
 * only the uploads of requests that failed. Multipart uploads in progress are not
 * kept across a restart.
 *
 * Why not s3rver (used before): it cost about 15 ms of CPU per stored-and-read object
 * (koa, XML, signature checks, four files per object), as much as the whole feature
 * extraction. This costs well under 1 ms. It checks the access key, not the request
 * signature: it listens on loopback only, where anyone who could forge a request can
 * read the files directly.
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants, createReadStream, readSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface LocalS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  close(): Promise<void>;
}

const ACCESS_KEY = 'LOCALS3';
const SECRET_KEY = 'LOCALS3SECRET';
const JOURNAL = '.objects.jsonl';
const PACK = '.objects.pack';
const UPLOADS = '.uploads';

interface ObjectMeta {
  contentType: string;
  etag: string;
  size: number;
  modified: string;
  /** Where the bytes start in the pack file; absent for an object stored as a file of its own. */
  offset?: number;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The live objects of a bucket's journal: the last line about a key wins, a null meta deletes it. */
async function readJournal(dir: string): Promise<Map<string, ObjectMeta>> {
  const objects = new Map<string, ObjectMeta>();
  const journal = await readFile(join(dir, JOURNAL), 'utf8').catch(() => '');
  for (const line of journal.split('\n')) {
    if (!line) continue;
    try {
      const entry = JSON.parse(line) as { key: string; meta: ObjectMeta | null };
      if (entry.meta) objects.set(entry.key, entry.meta);
      else objects.delete(entry.key);
    } catch {
      // A line cut by a crash: the entries before it stand.
    }
  }
  return objects;
}

/** One bucket: the pack file of object bytes, and the journal of where each object is. */
class Bucket {
  private packEnd = 0;

  private constructor(
    readonly dir: string,
    readonly objects: Map<string, ObjectMeta>,
    private readonly pack: FileHandle,
    private readonly journal: FileHandle,
  ) {}

  static async open(dir: string): Promise<Bucket> {
    // Multipart uploads do not outlive the server (their clients got errors): drop their parts.
    await rm(join(dir, UPLOADS), { recursive: true, force: true });
    const objects = await readJournal(dir);
    // Rewrite the journal compactly: one line per live object.
    const lines = [...objects].map(([key, meta]) => `${JSON.stringify({ key, meta })}\n`).join('');
    await writeFile(join(dir, `${JOURNAL}.tmp`), lines);
    await rename(join(dir, `${JOURNAL}.tmp`), join(dir, JOURNAL));
    // Read-write, not append: on Linux a file opened to append ignores the position of each write.
    const pack = await open(join(dir, PACK), constants.O_RDWR | constants.O_CREAT);
    const bucket = new Bucket(dir, objects, pack, await open(join(dir, JOURNAL), 'a'));
    // After the last byte, even one no journal line names (a write cut by a crash).
    bucket.packEnd = (await pack.stat()).size;
    return bucket;
  }

  /** An object of the earlier layout: a file named by its encoded key. */
  private path(key: string): string {
    return join(this.dir, encodeURIComponent(key));
  }

  // The pack and the journal are written and read synchronously: a write of a clip to the
  // page cache takes tens of microseconds, less than handing it to libuv's thread pool
  // and back (two thread wake-ups, and this thread preempted by the first).

  /** Appends the object's bytes to the pack, then records it: a reader never sees half an object. */
  put(key: string, body: Buffer, contentType: string, etag: string): void {
    const offset = this.packEnd;
    this.packEnd += body.length;
    for (let done = 0; done < body.length; ) done += writeSync(this.pack.fd, body, done, body.length - done, offset + done);
    this.record(key, { contentType, etag, size: body.length, modified: new Date().toUTCString(), offset });
  }

  /** Bytes [start, end] of an object, read at once. */
  async read(key: string, meta: ObjectMeta, start: number, end: number): Promise<Buffer> {
    if (meta.offset === undefined) return (await readFile(this.path(key))).subarray(start, end + 1);
    const out = Buffer.allocUnsafe(end - start + 1);
    if (readSync(this.pack.fd, out, 0, out.length, meta.offset + start) !== out.length) throw new Error(`${key}: the pack file ends early`);
    return out;
  }

  /** Bytes [start, end] of an object, streamed. */
  stream(key: string, meta: ObjectMeta, start: number, end: number) {
    if (meta.offset === undefined) return createReadStream(this.path(key), { start, end });
    return createReadStream(join(this.dir, PACK), { start: meta.offset + start, end: meta.offset + end });
  }

  async remove(key: string): Promise<void> {
    const meta = this.objects.get(key);
    if (!meta) return;
    if (meta.offset === undefined) await rm(this.path(key), { force: true });
    this.record(key, null);
  }

  async close(): Promise<void> {
    await Promise.all([this.pack.close(), this.journal.close()]);
  }

  private record(key: string, meta: ObjectMeta | null): void {
    // One write per line, to a file opened to append: a line is never split.
    writeSync(this.journal.fd, `${JSON.stringify({ key, meta })}\n`);
    if (meta) this.objects.set(key, meta);
    else this.objects.delete(key);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function sendError(req: IncomingMessage, res: ServerResponse, err: S3Error): void {
  if (req.method === 'HEAD') {
    res.writeHead(err.status).end();
    return;
  }
  sendXml(
    res,
    err.status,
    `<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message><Resource>${xmlEscape(req.url ?? '')}</Resource><RequestId>${randomUUID()}</RequestId></Error>`,
  );
}

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

/**
 * A stored object's ETag. S3 makes it the MD5 of the bytes, but documents that an ETag
 * may or may not be one, and the platform never reads it. A request that signs its
 * body's SHA-256 (as every client does over plain HTTP) has that checked, as S3 checks
 * it, and its ETag made of it: SHA-256 costs this machine's CPU 37 µs for a 60 kB clip,
 * MD5 85.
 */
function etagOf(req: IncomingMessage, body: Buffer): string {
  const declared = req.headers['x-amz-content-sha256'];
  if (typeof declared !== 'string' || !/^[0-9a-f]{64}$/.test(declared)) return `"${createHash('md5').update(body).digest('hex')}"`;
  if (createHash('sha256').update(body).digest('hex') !== declared) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', "the body's SHA-256 is not the one the request declares");
  }
  return `"${declared.slice(0, 32)}"`;
}

export async function startLocalS3(options: { directory: string; port?: number; address?: string }): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const buckets = new Map<string, Bucket>();
  for (const entry of await readdir(options.directory, { withFileTypes: true })) {
    if (entry.isDirectory()) buckets.set(entry.name, await Bucket.open(join(options.directory, entry.name)));
  }

  const bucketOf = (name: string): Bucket => {
    const bucket = buckets.get(name);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', `bucket ${name} does not exist`);
    return bucket;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const credential = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (credential !== ACCESS_KEY) throw new S3Error(403, 'InvalidAccessKeyId', 'unknown or missing access key');
    const url = new URL(req.url ?? '/', 'http://local');
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (!bucketName) throw new S3Error(501, 'NotImplemented', 'listing buckets is not supported');

    if (!key) {
      if (method === 'HEAD') {
        bucketOf(bucketName);
        res.writeHead(200).end();
      } else if (method === 'PUT') {
        if (!buckets.has(bucketName)) {
          if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName)) throw new S3Error(400, 'InvalidBucketName', bucketName);
          await mkdir(join(options.directory, bucketName), { recursive: true });
          buckets.set(bucketName, await Bucket.open(join(options.directory, bucketName)));
        }
        res.writeHead(200).end();
      } else if (method === 'GET' && q.has('uploads')) {
        // In-progress uploads are not resumed across calls: the empty listing is the true answer.
        bucketOf(bucketName);
        sendXml(
          res,
          200,
          `<ListMultipartUploadsResult ${NS}><Bucket>${bucketName}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`,
        );
      } else {
        throw new S3Error(501, 'NotImplemented', `${method} on a bucket is not supported`);
      }
      return;
    }

    const bucket = bucketOf(bucketName);
    if (key.split('/').includes('..')) throw new S3Error(400, 'InvalidArgument', 'key must not contain ".." segments');
    const uploadId = q.get('uploadId');

    if (method === 'POST' && q.has('uploads')) {
      const id = randomUUID();
      await mkdir(join(bucket.dir, UPLOADS, id), { recursive: true });
      const type = req.headers['content-type'] ?? 'application/octet-stream';
      await writeFile(join(bucket.dir, UPLOADS, id, 'content-type'), type);
      sendXml(
        res,
        200,
        `<InitiateMultipartUploadResult ${NS}><Bucket>${bucketName}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
      return;
    }
    if (uploadId !== null) {
      if (!/^[0-9a-f-]{36}$/.test(uploadId)) throw new S3Error(404, 'NoSuchUpload', 'no such upload');
      const dir = join(bucket.dir, UPLOADS, uploadId);
      if (!(await stat(dir).catch(() => null))) throw new S3Error(404, 'NoSuchUpload', 'no such upload');
      if (method === 'PUT') {
        const part = Number(q.get('partNumber'));
        if (!Number.isInteger(part) || part < 1 || part > 10_000) throw new S3Error(400, 'InvalidArgument', 'bad partNumber');
        const body = await readBody(req);
        await writeFile(join(dir, `part-${part}`), body);
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
      } else if (method === 'POST') {
        const parts = [...(await readBody(req)).toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
        if (parts.length === 0) throw new S3Error(400, 'MalformedXML', 'no parts listed');
        const buffers = await Promise.all(parts.map((p) => readFile(join(dir, `part-${p}`))));
        const body = Buffer.concat(buffers);
        const contentType = await readFile(join(dir, 'content-type'), 'utf8');
        // As S3 does: the MD5 of the parts' MD5s, and how many parts there were.
        const md5s = buffers.map((b) => createHash('md5').update(b).digest());
        const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`;
        bucket.put(key, body, contentType, etag);
        await rm(dir, { recursive: true, force: true });
        const location = `http://${req.headers.host}/${bucketName}/${encodeURIComponent(key)}`;
        sendXml(
          res,
          200,
          `<CompleteMultipartUploadResult ${NS}><Location>${xmlEscape(location)}</Location><Bucket>${bucketName}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></CompleteMultipartUploadResult>`,
        );
      } else if (method === 'DELETE') {
        await rm(dir, { recursive: true, force: true });
        res.writeHead(204).end();
      } else {
        throw new S3Error(501, 'NotImplemented', `${method} on an upload is not supported`);
      }
      return;
    }

    if (method === 'PUT') {
      const body = await readBody(req);
      const etag = etagOf(req, body);
      bucket.put(key, body, req.headers['content-type'] ?? 'application/octet-stream', etag);
      res.writeHead(200, { etag }).end();
      return;
    }
    if (method === 'DELETE') {
      await bucket.remove(key);
      res.writeHead(204).end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new S3Error(405, 'MethodNotAllowed', `${method} is not supported`);
    const meta = bucket.objects.get(key);
    if (!meta) throw new S3Error(404, 'NoSuchKey', 'the object does not exist');
    const headers: Record<string, string | number> = {
      'content-type': meta.contentType,
      etag: meta.etag,
      'last-modified': meta.modified,
      'accept-ranges': 'bytes',
    };
    let start = 0;
    let end = meta.size - 1;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(end, Number(range[2]));
      } else {
        start = Math.max(0, meta.size - Number(range[2]));
      }
      if (start >= meta.size || start > end) {
        headers['content-range'] = `bytes */${meta.size}`;
        throw new S3Error(416, 'InvalidRange', 'the requested range is not satisfiable');
      }
      headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
    }
    headers['content-length'] = end - start + 1;
    const status = headers['content-range'] ? 206 : 200;
    if (method === 'HEAD' || end < start) {
      res.writeHead(status, headers).end();
      return;
    }
    if (meta.size <= 1 << 20) {
      // Small objects (the usual clip) in one read: cheaper than a stream.
      const bytes = await bucket.read(key, meta, start, end);
      res.writeHead(status, headers).end(bytes);
      return;
    }
    res.writeHead(status, headers);
    const stream = bucket.stream(key, meta, start, end);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(req, res, err instanceof S3Error ? err : new S3Error(500, 'InternalError', (err as Error).message));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.address ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          Promise.all([...buckets.values()].map((b) => b.close())).then(() => resolve());
        });
      }),
  };
}

/** Keys of the objects a local S3 server keeps in `directory` (for tests that check what was stored). */
export async function listLocalS3Keys(directory: string, bucket: string): Promise<string[]> {
  return [...(await readJournal(join(directory, bucket))).keys()].sort();
}

/** Ids of the multipart uploads begun and neither completed nor aborted (for tests that check what was left). */
export async function listLocalS3Uploads(directory: string, bucket: string): Promise<string[]> {
  return (await readdir(join(directory, bucket, UPLOADS)).catch(() => [])).sort();
}
