/** The platform's one way into PostgreSQL: Prisma over the pg driver adapter. */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';

export type Db = InstanceType<typeof PrismaClient> & {
  /**
   * The pg pool under Prisma, for the few statements run once per processed file
   * (the worker's): Prisma's own work per query costs more than the query there.
   */
  readonly pool: pg.Pool;
};

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

export function createDb(url: string, options: { poolSize?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 });
  // An idle connection the server drops must not crash the process: the next query reconnects.
  pool.on('error', () => {});
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return Object.assign(new PrismaClient({ adapter }), { pool });
}

/** Creates the database named in `url` when it does not exist (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[\w-]+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not a plain identifier`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0)
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
  } finally {
    await client.end();
  }
}

/** Applies the committed migrations (`prisma migrate deploy`). */
export async function migrate(url: string): Promise<void> {
  await ensureDatabase(url);
  const prisma = join(PACKAGE_DIR, 'node_modules', '.bin', 'prisma');
  await promisify(execFile)(prisma, ['migrate', 'deploy'], { cwd: PACKAGE_DIR, env: { ...process.env, DATABASE_URL: url } }).catch(
    (err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`migrations failed: ${err.stderr || err.stdout || err.message}`);
    },
  );
}

/** Readiness: one round trip. */
export async function pingDb(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}
