/** The feature extractor's ClassifyResponse as the platform stores it. */
import type { Outcome } from '@ser/db';
import type { ClassifyResponse } from '@ser/grpc';
import { EMOTIONS, type Emotion, isEmotion } from '@ser/shared';
import { ApiError } from './errors.js';

export type Classified = Extract<Outcome, { ok: true }>;

export function classifiedOutcome(response: ClassifyResponse): Classified {
  if (!isEmotion(response.emotion)) {
    // A model with other labels than the platform's eight cannot be shown or stored.
    throw new ApiError(502, 'bad_model_output', `the model answered an unknown emotion "${response.emotion}"`);
  }
  const probabilities = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as Record<Emotion, number>;
  response.labels.forEach((label, i) => {
    if (isEmotion(label)) probabilities[label] = response.probabilities[i] ?? 0;
  });
  const t = response.timings;
  return {
    ok: true,
    model: { name: response.model?.name ?? '', version: response.model?.version ?? '' },
    emotion: response.emotion,
    confidence: response.confidence,
    probabilities,
    timings: t
      ? { fetchMs: t.fetchMs, decodeMs: t.decodeMs, featuresMs: t.featuresMs, inferenceMs: t.inferenceMs, totalMs: t.totalMs }
      : {},
  };
}
