/** POST /v1/jobs: a batch job, one queue item per uploaded file. */
import { randomUUID } from 'node:crypto';
import { createJob, failUnfinishedItems, getJob, recordJobItemOutcome } from '@ser/db';
import { type ClassifyItemPayload, itemJobId, JOBS } from '@ser/queue';
import type { ObjectStore } from '@ser/storage';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../deps.js';
import { ApiError, badRequest } from '../errors.js';
import { errorResponses, JOB_STATUSES, uuid } from '../schemas.js';
import { asMultipartError, multipartParts } from '../uploads/multipart.js';
import { storeUpload, type Upload } from '../uploads/store-upload.js';
import { audioFile, multipartBody } from './multipart-doc.js';

const MAX_CALLBACK_URL_LENGTH = 2048;

const schema = {
  tags: ['jobs'],
  summary: 'Create a batch job',
  description:
    'Upload one or more files, each in a multipart field named `file`, and optionally a `callbackUrl` (http or https) ' +
    'that is called when the job finishes. Files that are not audio become items that failed at once; the job goes on ' +
    'with the rest. The response points at the job (Location header).',
  response: {
    202: {
      type: 'object',
      required: ['id', 'status', 'total'],
      properties: { id: uuid, status: { type: 'string', enum: [...JOB_STATUSES] }, total: { type: 'integer' } },
      headers: { location: { type: 'string', description: '/v1/jobs/{id}' } },
    },
    ...errorResponses(400, 413, 415, 503),
  },
};

export function parseCallbackUrl(raw: unknown): string {
  const value = typeof raw === 'string' ? raw.trim() : '';
  const invalid = () => badRequest('callbackUrl must be an absolute http or https URL', 'invalid_callback_url');
  if (value.length === 0 || value.length > MAX_CALLBACK_URL_LENGTH) throw invalid();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid();
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) throw invalid();
  return value;
}

type JobUpload = Upload & { recordingId: string; objectKey: string };

async function removeStored(store: ObjectStore, uploads: JobUpload[]): Promise<void> {
  const stored = uploads.filter((u) => u.stored);
  // Writes still going on in the background finish (or fail) first, so none lands after its removal.
  await Promise.allSettled(stored.map((u) => u.done));
  await Promise.allSettled(stored.map((u) => store.remove(u.objectKey)));
}

/** Store writes in flight while the next files are read. */
const MAX_WRITES_IN_FLIGHT = 16;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export default async function jobsCreate(fastify: FastifyInstance, { deps, metrics }: RouteContext): Promise<void> {
  const { config, db, store, queue } = deps;

  fastify.post(
    '/v1/jobs',
    {
      schema,
      config: {
        swaggerTransform: multipartBody(
          {
            file: { type: 'array', items: audioFile, description: 'One or more audio files (repeat the field).' },
            callbackUrl: { type: 'string', format: 'uri', description: 'Called (POST) when the job finishes.' },
          },
          ['file'],
        ),
      },
    },
    async (request, reply) => {
      const uploads: JobUpload[] = [];
      const writes: Promise<void>[] = [];
      let callbackUrl: string | undefined;
      try {
        for await (const part of multipartParts(request, { fileSize: config.maxFileBytes, files: config.maxFiles })) {
          if (part.type === 'field') {
            if (part.fieldname === 'callbackUrl') callbackUrl = parseCallbackUrl(part.value);
            continue; // other fields are not ours; ignoring them keeps clients' extra form fields harmless
          }
          if (part.fieldname !== 'file') throw badRequest(`unexpected file field "${part.fieldname}": send files in fields named "file"`);
          const recordingId = randomUUID();
          const objectKey = `recordings/${recordingId}`;
          const upload = await storeUpload(store, part, {
            objectKey,
            maxFileBytes: config.maxFileBytes,
            drainRejected: true,
            background: true,
          });
          uploads.push({ ...upload, recordingId, objectKey });
          if (upload.stored) {
            writes.push(upload.done);
            if (writes.length >= MAX_WRITES_IN_FLIGHT) await writes.shift();
          }
          metrics.uploadFiles.inc({ endpoint: 'jobs', outcome: upload.stored ? 'stored' : 'rejected' });
          metrics.uploadBytes.inc({ endpoint: 'jobs' }, upload.bytes);
        }
        await Promise.all(writes);
      } catch (err) {
        await removeStored(store, uploads);
        throw asMultipartError(err);
      }
      if (uploads.length === 0) throw badRequest('no files: send one or more multipart fields named "file"', 'no_file');

      const jobId = randomUUID();
      const correlationId = request.id;
      try {
        await createJob(db, {
          id: jobId,
          callbackUrl,
          correlationId,
          recordings: uploads.map((u) => ({
            id: u.recordingId,
            // A rejected file is not stored; its key stays reserved and empty (its audio answers 404).
            objectKey: u.objectKey,
            filename: u.filename,
            contentType: u.stored ? u.contentType : 'application/octet-stream',
            bytes: u.bytes,
            sha256: u.sha256,
            format: u.stored ? u.format : null,
          })),
        });
      } catch (err) {
        await removeStored(store, uploads);
        throw err;
      }

      // Files that are not audio fail now, with their reason; they never reach the queue.
      for (const [position, u] of uploads.entries()) {
        if (u.stored) continue;
        await recordJobItemOutcome(
          db,
          { jobId, recordingId: u.recordingId, position, filename: u.filename, correlationId },
          { ok: false, errorCode: u.errorCode, error: u.error },
        );
      }

      const items: ClassifyItemPayload[] = uploads.flatMap((u, position) =>
        u.stored ? [{ jobId, recordingId: u.recordingId, objectKey: u.objectKey, filename: u.filename, position, correlationId }] : [],
      );
      if (items.length > 0) {
        try {
          await withTimeout(
            queue.addBulk(items.map((data) => ({ name: JOBS.classify, data, opts: { jobId: itemJobId(jobId, data.recordingId) } }))),
            // BullMQ waits for a Redis connection that is down instead of failing: bound the wait.
            config.queueTimeoutMs,
            'queueing',
          );
        } catch (err) {
          request.log.error({ err, jobId }, 'could not queue the job items; marking the job failed');
          const message = `the job queue is unavailable; job ${jobId} was marked failed`;
          await failUnfinishedItems(db, jobId, { errorCode: 'QUEUE_UNAVAILABLE', error: message }, correlationId);
          throw new ApiError(503, 'queue_unavailable', message);
        }
      }

      const job = await getJob(db, jobId);
      request.log.info({ jobId, total: uploads.length, queued: items.length }, 'job created');
      return reply
        .status(202)
        .header('location', `/v1/jobs/${jobId}`)
        .send({ id: jobId, status: job?.status ?? 'queued', total: uploads.length });
    },
  );
}
