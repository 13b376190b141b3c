/**
 * Vitest global set-up: the real services the tests talk to. PostgreSQL and Redis
 * come from the environment (TEST_DATABASE_URL, TEST_REDIS_URL) or this machine's
 * local servers; the test database is created and migrated once per run.
 */
import { migrate } from '@ser/db';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ser_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export default async function setup(): Promise<void> {
  process.env.TEST_DATABASE_URL = TEST_DATABASE_URL;
  process.env.TEST_REDIS_URL = TEST_REDIS_URL;
  await migrate(TEST_DATABASE_URL);
}
