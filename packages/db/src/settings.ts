import { env } from '@ser/config';

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/ser';

export const databaseSettings = {
  databaseUrl: env.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres', 'postgresql']),
  databasePoolSize: env.int('DATABASE_POOL_SIZE', 10, { min: 1, max: 100 }),
  /** Connecting, or waiting for a free pooled connection, fails after this long. */
  databaseConnectTimeoutMs: env.int('DATABASE_CONNECT_TIMEOUT_MS', 5_000, { min: 100, max: 600_000 }),
  /** A query unanswered after this long fails and its connection is dropped (a database gone without a reset). */
  databaseQueryTimeoutMs: env.int('DATABASE_QUERY_TIMEOUT_MS', 15_000, { min: 100, max: 3_600_000 }),
};
