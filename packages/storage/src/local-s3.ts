/**
 * A local S3-compatible server (s3rver) on loopback, so the platform runs with no
 * MinIO. Real MinIO is used in infra/docker-compose.yml.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  close(): Promise<void>;
}

const EMPTY_UPLOADS = (bucket: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`;

export async function startLocalS3(options: { directory: string; port?: number; address?: string }): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    directory: options.directory,
    port: options.port ?? 0,
    address: options.address ?? '127.0.0.1',
    silent: true,
    allowMismatchedSignatures: false,
  });
  // The minio client asks for in-progress multipart uploads (GET /bucket?uploads)
  // before starting one; s3rver does not implement that listing. None are kept
  // across calls here, so the empty listing is the true answer.
  server.middleware.unshift(async (ctx, next) => {
    const bucket = /^\/([^/?]+)\/?$/.exec(ctx.path)?.[1];
    if (ctx.method === 'GET' && bucket && 'uploads' in ctx.query) {
      ctx.type = 'application/xml';
      ctx.body = EMPTY_UPLOADS(bucket);
      return;
    }
    await next();
  });
  const address: AddressInfo = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    close: () => server.close(),
  };
}
