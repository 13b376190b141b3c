export {
  API_KEY_PATTERN,
  type ApiKeyRow,
  apiKeyMatches,
  apiKeyPrefix,
  createApiKey,
  findApiKeyByPrefix,
  generateApiKey,
  hashApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from './api-keys.js';
export { createDb, type Db, type DbOptions, ensureDatabase, isDatabaseUnavailable, migrate, pingDb } from './client.js';
export { CursorError } from './cursor.js';
export {
  createJob,
  failUnfinishedItems,
  getJob,
  itemState,
  listJobs,
  markJobRunning,
  type RecordedOutcome,
  recordCallbackAttempt,
  recordJobItemOutcome,
  staleQueuedJobs,
} from './jobs.js';
export {
  createPrediction,
  listJobResults,
  listPredictions,
  type PredictionFilter,
  recordSinglePrediction,
  streamJobResults,
  streamPredictions,
} from './predictions.js';
export { createRecording, getRecording, type RecordingAudio } from './recordings.js';
export { DEFAULT_DATABASE_URL, databaseSettings } from './settings.js';
export type { JobRow, JobStatus, Outcome, Page, PredictionRow, RecordingInput, RecordingRow } from './types.js';
