/**
 * Readiness: every backend a request may need, checked in parallel, each with a
 * short timeout so one hung dependency cannot hang the probe.
 */
import { pingDb } from '@ser/db';
import { callUnary } from '@ser/grpc';
import type { GatewayDeps } from './deps.js';

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** A failure whose message is ours and safe to show; other errors' texts (hosts, ports, SQL) go to the log only. */
class CheckFailed extends Error {}

export type ReadinessChecks = Record<string, () => Promise<void>>;

export function readinessChecks(deps: GatewayDeps): ReadinessChecks {
  const timeoutMs = deps.config.readyTimeoutMs;
  return {
    database: () => pingDb(deps.db),
    redis: async () => {
      // Commands fail at once while the producer connection is (re)connecting (no offline
      // queue): right after start-up that is not "down", so wait for it (within the timeout).
      if (deps.redis.status !== 'ready') await untilReady(deps.redis, timeoutMs);
      await deps.redis.ping();
    },
    storage: () => deps.store.ping(),
    inference: async () => {
      const res = await callUnary(deps.inference, 'serverReady', {}, { deadlineMs: timeoutMs });
      if (!res.ready) throw new CheckFailed('inference is not ready (starting or stopping)');
    },
    // The extractor is reached by connecting its channel: Classify is its only real work.
    extractor: () =>
      new Promise<void>((resolve, reject) =>
        deps.extractor.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(new CheckFailed('unreachable')) : resolve())),
      ),
  };
}

function untilReady(redis: GatewayDeps['redis'], ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new CheckFailed(`not connected within ${ms} ms`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

function withTimeout(check: () => Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    check(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function runChecks(
  checks: ReadinessChecks,
  timeoutMs: number,
  log: { warn(obj: object, msg: string): void },
): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        await withTimeout(check, timeoutMs);
        return [name, { ok: true, ms: Math.round(performance.now() - started) }];
      } catch (err) {
        log.warn({ err, check: name }, `readiness check ${name} failed`);
        const error = err instanceof CheckFailed ? err.message : 'unavailable';
        return [name, { ok: false, ms: Math.round(performance.now() - started), error }];
      }
    }),
  );
  return Object.fromEntries(entries);
}
