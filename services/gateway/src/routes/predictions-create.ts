/** POST /v1/predictions: classify one uploaded file now. */
import { randomUUID } from 'node:crypto';
import type { MultipartFile } from '@fastify/multipart';
import { recordSinglePrediction } from '@ser/db';
import { type ClassifyResponse, callStream, GrpcError, status } from '@ser/grpc';
import type { FastifyInstance } from 'fastify';
import { classifiedOutcome } from '../classification.js';
import type { RouteContext } from '../deps.js';
import { badRequest } from '../errors.js';
import { createdPredictionSchema, errorResponses } from '../schemas.js';
import { asMultipartError, multipartParts } from '../uploads/multipart.js';
import { type StoredUpload, storeUpload, unsupportedMedia } from '../uploads/store-upload.js';
import { audioFile, multipartBody } from './multipart-doc.js';

/** Audio sent inline to the extractor up to this size (gRPC's default message limit is 4 MiB). */
const MAX_INLINE_BYTES = 3 * 1024 * 1024;

const schema = {
  tags: ['predictions'],
  summary: 'Classify one audio file now',
  description:
    'Upload one file in the multipart field `file`. The content is judged by its header, not its name. ' +
    'The upload and the prediction are stored (see GET /v1/predictions and GET /v1/recordings/{id}/audio).',
  response: { 200: createdPredictionSchema, ...errorResponses(400, 413, 415, 422, 503, 504) },
};

export default async function predictionsCreate(fastify: FastifyInstance, { deps, metrics }: RouteContext): Promise<void> {
  const { config, db, store, extractor } = deps;

  /** Takes the object back out when the request fails for a passing reason (a retry uploads it again). */
  async function discard(upload: StoredUpload): Promise<void> {
    await upload.done.catch(() => {});
    await store.remove(upload.objectKey).catch(() => {});
  }

  fastify.post(
    '/v1/predictions',
    { schema, config: { swaggerTransform: multipartBody({ file: audioFile }, ['file']) } },
    async (request) => {
      let part: MultipartFile | undefined;
      for await (const p of multipartParts(request, { fileSize: config.maxFileBytes, files: 1 })) {
        if (p.type !== 'file') continue;
        if (p.fieldname !== 'file') throw badRequest(`unexpected file field "${p.fieldname}": send the audio in the field "file"`);
        part = p;
        break;
      }
      if (!part) throw badRequest('no file: send the audio in a multipart field named "file"', 'no_file');

      const recordingId = randomUUID();
      const objectKey = `recordings/${recordingId}`;
      const upload = await storeUpload(store, part, {
        objectKey,
        maxFileBytes: config.maxFileBytes,
        drainRejected: false,
        background: true,
        keepBody: true,
      }).catch((err: unknown) => {
        metrics.uploadFiles.inc({ endpoint: 'predictions', outcome: 'rejected' });
        throw asMultipartError(err);
      });
      if (!upload.stored) throw unsupportedMedia(upload.filename, upload.error, upload.errorCode);
      metrics.uploadFiles.inc({ endpoint: 'predictions', outcome: 'stored' });
      metrics.uploadBytes.inc({ endpoint: 'predictions' }, upload.bytes);
      const { filename } = upload;
      const correlationId = request.id;
      const recording = {
        id: recordingId,
        objectKey,
        filename,
        contentType: upload.contentType,
        bytes: upload.bytes,
        sha256: upload.sha256,
        format: upload.format,
      };

      // A small file goes to the extractor with the request, while the store writes it;
      // a large one is read back from the store by the extractor.
      const inline = upload.body && upload.body.length <= MAX_INLINE_BYTES;
      let response: ClassifyResponse;
      try {
        if (!inline) await upload.done;
        response = await callStream(
          extractor,
          'classifyStream',
          {
            audio: {
              source: inline ? { $case: 'content', value: upload.body as Buffer } : { $case: 'objectKey', value: objectKey },
              filename,
            },
          },
          { deadlineMs: config.classifyDeadlineMs, correlationId },
        );
        await upload.done;
      } catch (err) {
        if (err instanceof GrpcError && err.code === status.INVALID_ARGUMENT) {
          // Audio that can never be classified is kept with its reason, as a batch item would be.
          await upload.done;
          await recordSinglePrediction(
            db,
            recording,
            { ok: false, errorCode: err.reason ?? 'INVALID_AUDIO', error: err.message },
            correlationId,
          );
        } else {
          await discard(upload);
        }
        throw err;
      }

      const outcome = classifiedOutcome(response);
      const prediction = await recordSinglePrediction(db, { ...recording, ...response.audio }, outcome, correlationId).catch(
        async (err: unknown) => {
          await discard(upload);
          throw err;
        },
      );
      metrics.predictions.inc({ emotion: outcome.emotion, model_version: outcome.model.version });
      return {
        id: prediction.id,
        recordingId,
        filename,
        emotion: outcome.emotion,
        confidence: outcome.confidence,
        probabilities: outcome.probabilities,
        model: outcome.model,
        durationSeconds: response.audio?.durationSeconds ?? 0,
        timings: outcome.timings ?? {},
      };
    },
  );
}
