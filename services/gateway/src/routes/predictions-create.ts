/** POST /v1/predictions: classify one uploaded file now. */
import { randomUUID } from 'node:crypto';
import type { MultipartFile } from '@fastify/multipart';
import { createPrediction, createRecording, updateRecordingAudio } from '@ser/db';
import { type ClassifyResponse, callUnary, GrpcError, status } from '@ser/grpc';
import type { FastifyInstance } from 'fastify';
import { classifiedOutcome } from '../classification.js';
import type { RouteContext } from '../deps.js';
import { badRequest } from '../errors.js';
import { createdPredictionSchema, errorResponses } from '../schemas.js';
import { asMultipartError, multipartParts } from '../uploads/multipart.js';
import { storeUpload, unsupportedMedia } from '../uploads/store-upload.js';
import { audioFile, multipartBody } from './multipart-doc.js';

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

  /** Takes a recording back out when it could not be classified for a passing reason (a retry uploads it again). */
  async function discard(recordingId: string, objectKey: string): Promise<void> {
    await Promise.allSettled([db.recording.deleteMany({ where: { id: recordingId } }), store.remove(objectKey)]);
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
      const upload = await storeUpload(store, part, { objectKey, maxFileBytes: config.maxFileBytes, drainRejected: false }).catch(
        (err: unknown) => {
          metrics.uploadFiles.inc({ endpoint: 'predictions', outcome: 'rejected' });
          throw asMultipartError(err);
        },
      );
      // Not reached (drainRejected: false throws instead); narrows the type.
      if (!upload.stored) throw unsupportedMedia(upload.filename, upload.error, upload.errorCode);
      metrics.uploadFiles.inc({ endpoint: 'predictions', outcome: 'stored' });
      metrics.uploadBytes.inc({ endpoint: 'predictions' }, upload.bytes);
      const { filename } = upload;
      const correlationId = request.id;

      let response: ClassifyResponse;
      try {
        await createRecording(db, {
          id: recordingId,
          objectKey,
          filename,
          contentType: upload.contentType,
          bytes: upload.bytes,
          sha256: upload.sha256,
          format: upload.format,
        });
        response = await callUnary(
          extractor,
          'classify',
          { audio: { source: { $case: 'objectKey', value: objectKey }, filename } },
          { deadlineMs: config.classifyDeadlineMs },
        );
      } catch (err) {
        if (err instanceof GrpcError && err.code === status.INVALID_ARGUMENT) {
          // The audio itself is bad: kept with its failed prediction, as a failed batch item would be.
          await createPrediction(
            db,
            { recordingId, filename, correlationId },
            { ok: false, errorCode: err.reason ?? 'INVALID_AUDIO', error: err.message },
          );
        } else {
          await discard(recordingId, objectKey);
        }
        throw err;
      }

      const outcome = classifiedOutcome(response);
      if (response.audio) await updateRecordingAudio(db, recordingId, response.audio);
      const prediction = await createPrediction(db, { recordingId, filename, correlationId }, outcome);
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
