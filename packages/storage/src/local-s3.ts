/**
 * A small S3-compatible server on loopback, so the platform runs with no MinIO
 * (real MinIO runs in infra/docker-compose.yml). It serves what the platform's
 * ObjectStore asks of S3, path-style: bucket HEAD/PUT, object PUT/GET (with Range)/
 * HEAD/DELETE, and multipart uploads. Objects are files in `directory/<bucket>/`;
 * their content type and ETag are kept in a journal beside them, so they survive a
 * restart.
 *
 * Why not s3rver (used before): it cost about 15 ms of CPU per stored-and-read object
 * (koa, XML, signature checks, four files per object), as much as the whole feature
 * extraction. This costs well under 1 ms. It checks the access key, not the request
 * signature: it listens on loopback only, where anyone who could forge a request can
 * read the files directly.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
const UPLOADS = '.uploads';

interface ObjectMeta {
  contentType: string;
  etag: string;
  size: number;
  modified: string;
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

/** One bucket: object files named by their encoded key, and the journal of their metadata. */
class Bucket {
  readonly objects = new Map<string, ObjectMeta>();

  constructor(readonly dir: string) {}

  static async open(dir: string): Promise<Bucket> {
    const bucket = new Bucket(dir);
    const journal = await readFile(join(dir, JOURNAL), 'utf8').catch(() => '');
    for (const line of journal.split('\n')) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as { key: string; meta: ObjectMeta | null };
        if (entry.meta) bucket.objects.set(entry.key, entry.meta);
        else bucket.objects.delete(entry.key);
      } catch {
        // A line cut by a crash: the entries before it stand.
      }
    }
    // Rewrite the journal compactly: one line per live object.
    const lines = [...bucket.objects].map(([key, meta]) => `${JSON.stringify({ key, meta })}\n`).join('');
    await writeFile(join(dir, `${JOURNAL}.tmp`), lines);
    await rename(join(dir, `${JOURNAL}.tmp`), join(dir, JOURNAL));
    return bucket;
  }

  path(key: string): string {
    return join(this.dir, encodeURIComponent(key));
  }

  async record(key: string, meta: ObjectMeta | null): Promise<void> {
    await appendFile(join(this.dir, JOURNAL), `${JSON.stringify({ key, meta })}\n`);
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
        await writeFile(bucket.path(key), body);
        await bucket.record(key, { contentType, etag, size: body.length, modified: new Date().toUTCString() });
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
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      // Written aside and renamed: a reader never sees half an object.
      const temp = `${bucket.path(key)}.${randomUUID()}.tmp`;
      await writeFile(temp, body);
      await rename(temp, bucket.path(key));
      const contentType = req.headers['content-type'] ?? 'application/octet-stream';
      await bucket.record(key, { contentType, etag, size: body.length, modified: new Date().toUTCString() });
      res.writeHead(200, { etag }).end();
      return;
    }
    if (method === 'DELETE') {
      if (bucket.objects.has(key)) {
        await rm(bucket.path(key), { force: true });
        await bucket.record(key, null);
      }
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
      const whole = await readFile(bucket.path(key));
      res.writeHead(status, headers).end(whole.subarray(start, end + 1));
      return;
    }
    res.writeHead(status, headers);
    const stream = createReadStream(bucket.path(key), { start, end });
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
        server.close(() => resolve());
      }),
  };
}

/** Keys of the objects a local S3 server keeps in `directory` (for tests that check what was stored). */
export async function listLocalS3Keys(directory: string, bucket: string): Promise<string[]> {
  const names = await readdir(join(directory, bucket)).catch(() => [] as string[]);
  return names
    .filter((n) => !n.startsWith('.') && !n.endsWith('.tmp'))
    .map(decodeURIComponent)
    .sort();
}
