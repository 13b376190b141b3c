import { env } from '@ser/config';

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/ser';

export const databaseSettings = {
  databaseUrl: env.url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres', 'postgresql']),
  databasePoolSize: env.int('DATABASE_POOL_SIZE', 10, { min: 1, max: 100 }),
};
