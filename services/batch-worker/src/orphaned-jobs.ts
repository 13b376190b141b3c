/**
 * A batch job whose files the gateway stored and recorded, but which it never queued
 * (it was killed between the two), would stay `queued` for ever: no item of it will
 * ever be delivered. Jobs still queued after `ORPHAN_JOB_AFTER_MS` whose first
 * unfinished item is not in the queue (the gateway queues a job's items in one
 * transaction: all or none) are failed, each item with `NOT_QUEUED`, so that they show
 * as what they are. Several workers may check at once: outcomes are recorded once.
 */
import { type Db, failUnfinishedItems, staleQueuedJobs } from '@ser/db';
import type { Logger } from '@ser/observability';
import { itemJobId } from '@ser/queue';
import type { Queue } from 'bullmq';

const NOT_QUEUED = {
  errorCode: 'NOT_QUEUED',
  error: 'the file was stored but never queued: the gateway stopped before it queued the job',
};

export async function failOrphanedJobs(deps: { db: Db; items: Queue; olderThanMs: number; logger: Logger }): Promise<void> {
  for (const stale of await staleQueuedJobs(deps.db, deps.olderThanMs)) {
    if (await deps.items.getJob(itemJobId(stale.jobId, stale.recordingId))) continue;
    await failUnfinishedItems(deps.db, stale.jobId, NOT_QUEUED, stale.correlationId);
    deps.logger.warn({ jobId: stale.jobId }, 'job never queued: its items are failed');
  }
}

/** Runs the check now and then every `everyMs` until stopped; a failed round (Redis or PostgreSQL away) waits for the next. */
export function checkOrphanedJobs(deps: Parameters<typeof failOrphanedJobs>[0], everyMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  // One round at a time: a slow one (a database that hangs) is not joined by the next.
  const round = () => {
    running ??= failOrphanedJobs(deps)
      .catch((err: Error) => deps.logger.warn({ err: err.message }, 'orphaned job check failed'))
      .finally(() => {
        running = undefined;
      });
  };
  round();
  const timer = setInterval(round, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
