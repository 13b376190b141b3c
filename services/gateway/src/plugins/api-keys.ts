/**
 * API keys (API_KEYS_REQUIRED=true): every /v1 route asks for a key, in
 * `x-api-key` or `Authorization: Bearer <key>`, and counts each key's requests
 * against its rate limit. /healthz, /readyz, /metrics, the page and its files,
 * /openapi.json and /docs stay open.
 *
 * - Keys are looked up by their prefix and compared by SHA-256 in constant time
 *   (`@ser/db` api-keys). A looked-up row is kept in memory for API_KEY_CACHE_MS
 *   (5 s), so a revocation takes effect within that on every gateway.
 * - The rate limit is a fixed window counted in Redis (INCR + PEXPIRE in one
 *   MULTI on `<QUEUE_PREFIX>:ratelimit:<key id>:<window>`), so every gateway on
 *   the same Redis shares it. Each answer carries x-ratelimit-limit,
 *   x-ratelimit-remaining and x-ratelimit-reset (seconds until the window ends);
 *   over the limit: 429 `rate_limited` with Retry-After. When Redis cannot be
 *   asked (down, or slower than a second) requests are let through and a warning
 *   logged: an outage of the counter does not take the API down with it.
 */
import { type ApiKeyRow, apiKeyMatches, apiKeyPrefix, type Db, findApiKeyByPrefix, touchApiKey } from '@ser/db';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { errorSchema } from '../schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key the request was made with (null when keys are not required, or on an open route). */
    apiKey: { id: string; name: string; prefix: string } | null;
  }
}

export const API_KEY_HEADER = 'x-api-key';
/** OpenAPI security requirement of the /v1 routes: either scheme. */
export const SECURITY: Record<string, string[]>[] = [{ apiKeyHeader: [] }, { bearerAuth: [] }];
export const SECURITY_SCHEMES = {
  apiKeyHeader: { type: 'apiKey', in: 'header', name: API_KEY_HEADER, description: 'An API key made with `ser keys create`.' },
  bearerAuth: { type: 'http', scheme: 'bearer', description: 'The same API key, as `Authorization: Bearer <key>`.' },
} as const;

/** Redis answers slower than this are treated as Redis being down (the request is let through). */
const RATE_LIMIT_TIMEOUT_MS = 1_000;
/** lastUsedAt is written at most this often per key and gateway. */
const TOUCH_EVERY_MS = 60_000;
/** Looked-up prefixes kept in memory at most (a flood of made-up keys cannot grow it further). */
const CACHE_MAX = 10_000;

const isProtected = (url: string | undefined) => url?.startsWith('/v1/') === true;

/** The key a request presents: x-api-key, else Authorization: Bearer. */
export function presentedKey(headers: FastifyRequest['headers']): string | undefined {
  const header = headers[API_KEY_HEADER];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const auth = headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth) : null;
  return bearer?.[1];
}

/** Rows by prefix, each trusted for `ttlMs`; concurrent look-ups of one prefix share a query; failures are not kept. */
export class ApiKeyCache {
  private readonly entries = new Map<string, { row: Promise<ApiKeyRow | null>; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
  ) {}

  get(prefix: string): Promise<ApiKeyRow | null> {
    const now = Date.now();
    const hit = this.entries.get(prefix);
    if (hit && hit.until > now) return hit.row;
    if (this.entries.size >= CACHE_MAX) {
      for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
      if (this.entries.size >= CACHE_MAX) this.entries.clear();
    }
    const entry = { row: findApiKeyByPrefix(this.db, prefix), until: now + this.ttlMs };
    this.entries.set(prefix, entry);
    entry.row.catch(() => {
      if (this.entries.get(prefix) === entry) this.entries.delete(prefix);
    });
    return entry.row;
  }
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window ends. */
  resetMs: number;
}

/** Counts one request of `keyId` in the current fixed window of `windowMs`. */
export async function countRequest(
  redis: GatewayDeps['redis'],
  namespace: string,
  keyId: string,
  limit: number,
  windowMs: number,
  now = Date.now(),
): Promise<RateDecision> {
  const window = Math.floor(now / windowMs);
  const resetMs = (window + 1) * windowMs - now;
  const key = `${namespace}:ratelimit:${keyId}:${window}`;
  // The key names its window, so it only has to outlive it; a second of slack covers clock skew between gateways.
  const results = await redis
    .multi()
    .incr(key)
    .pexpire(key, resetMs + 1_000)
    .exec();
  const [err, count] = results?.[0] ?? [new Error('the transaction was discarded'), null];
  if (err) throw err;
  const n = Number(count);
  return { allowed: n <= limit, limit, remaining: Math.max(0, limit - n), resetMs };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function unauthorized(reply: FastifyReply, code: string, message: string): ApiError {
  reply.header('www-authenticate', 'Bearer realm="ser"');
  return new ApiError(401, code, message);
}

/** The /v1 routes' schema with the security requirement and the 401/429 answers, for validation-free docs. */
function securedSchema(schema: FastifySchema | undefined): FastifySchema {
  const response = (schema?.response ?? {}) as Record<string, unknown>;
  return {
    ...schema,
    security: SECURITY,
    response: {
      ...response,
      401: { description: 'No API key, or one that is not valid or was revoked', ...errorSchema },
      429: { description: "Over the key's rate limit (see Retry-After and x-ratelimit-reset)", ...errorSchema },
    },
  };
}

async function apiKeys(fastify: FastifyInstance, options: { deps: GatewayDeps }): Promise<void> {
  const { config, db, redis } = options.deps;
  fastify.decorateRequest('apiKey', null);
  if (!config.apiKeysRequired) return;

  const cache = new ApiKeyCache(db, config.apiKeyCacheMs);
  const touched = new Map<string, number>();
  const windowName = config.rateLimitWindowMs === 60_000 ? 'minute' : `${config.rateLimitWindowMs / 1000} s`;

  // Registered before the routes: the OpenAPI document shows which need a key.
  fastify.addHook('onRoute', (route) => {
    if (isProtected(route.url)) route.schema = securedSchema(route.schema);
  });

  fastify.addHook('onRequest', async (request, reply) => {
    // The matched route's pattern, not the raw URL: percent-encoded paths cannot slip past.
    if (!isProtected(request.routeOptions.url)) return;
    const key = presentedKey(request.headers);
    if (!key)
      throw unauthorized(
        reply,
        'api_key_required',
        `an API key is required: send it in the ${API_KEY_HEADER} header or as Authorization: Bearer`,
      );
    const prefix = apiKeyPrefix(key);
    const row = prefix ? await cache.get(prefix) : null;
    if (!row || !apiKeyMatches(row, key)) throw unauthorized(reply, 'invalid_api_key', 'the API key is not valid');
    if (row.revokedAt) throw unauthorized(reply, 'api_key_revoked', 'the API key has been revoked');
    request.apiKey = { id: row.id, name: row.name, prefix: row.prefix };

    const now = Date.now();
    if (now - (touched.get(row.id) ?? 0) >= TOUCH_EVERY_MS) {
      touched.set(row.id, now);
      touchApiKey(db, row.id, new Date(now)).catch((err: Error) =>
        request.log.warn({ err: err.message }, 'could not record the key as used'),
      );
    }

    let decision: RateDecision;
    try {
      decision = await withTimeout(
        countRequest(redis, config.queuePrefix, row.id, row.rateLimitPerMinute, config.rateLimitWindowMs, now),
        RATE_LIMIT_TIMEOUT_MS,
      );
    } catch (err) {
      request.log.warn({ err: (err as Error).message, apiKey: row.prefix }, 'rate limit not counted (Redis): request let through');
      return;
    }
    const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
    reply.header('x-ratelimit-limit', decision.limit);
    reply.header('x-ratelimit-remaining', decision.remaining);
    reply.header('x-ratelimit-reset', resetSeconds);
    if (!decision.allowed) {
      reply.header('retry-after', resetSeconds);
      throw new ApiError(
        429,
        'rate_limited',
        `over this key's limit of ${decision.limit} requests per ${windowName}; retry in ${resetSeconds} s`,
      );
    }
  });
}

export default fp(apiKeys, { name: 'ser-api-keys' });
