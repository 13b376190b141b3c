export { type BatchWorkerConfig, batchWorkerSettings, loadBatchWorkerConfig } from './config.js';
export { type BatchMetrics, createBatchMetrics } from './metrics.js';
export { processItem, toOutcome } from './process-item.js';
export { processWebhook, webhookBody } from './process-webhook.js';
export { deliverWebhook, isPrivateAddress, resolveTarget, signature, WebhookRefused } from './webhook.js';
export { type BatchWorker, type BatchWorkerDeps, type BatchWorkerSettings, startBatchWorker } from './worker.js';
