export { itemsQueue, producerConnection, webhooksQueue, workerConnection } from './connections.js';
export {
  type ClassifyItemPayload,
  ITEM_JOB_OPTIONS,
  itemJobId,
  JOBS,
  QUEUES,
  WEBHOOK_JOB_OPTIONS,
  type WebhookPayload,
  webhookJobId,
} from './definitions.js';
export { queueSettings } from './settings.js';
