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

export interface DbOptions {
  poolSize?: number;
  /** Connecting, or waiting for a free connection of the pool, fails after this long (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * A query with no answer after this long fails and its connection leaves the pool
   * (default 15 s). Without it a query sent to a database host that vanished without
   * a reset (a crashed machine, a failover) would wait for ever and keep its connection.
   */
  queryTimeoutMs?: number;
}

export function createDb(url: string, options: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    query_timeout: options.queryTimeoutMs ?? 15_000,
  });
  // An idle connection the server drops must not crash the process: the next query reconnects.
  pool.on('error', () => {});
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return Object.assign(new PrismaClient({ adapter }), { pool });
}

/** Prisma's codes for a database it cannot reach, a lost connection, a pool timeout. */
const PRISMA_UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** Socket errors, and SQLSTATEs of a server shutting down, restarting or refusing connections (class 08, 57P01-57P03). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
]);
/**
 * pg's own errors for a connection that could not be made, was lost or stopped
 * answering: plain Errors without a code, which Prisma's pg adapter passes on as they are.
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * True when `err` (from Prisma or straight from the pg pool) means "the database cannot
 * be reached now", not "this query is wrong": retry later, answer 503.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (PG_CONNECTION_LOST.test(err.message)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (!err.name.startsWith('PrismaClient') && err.name !== 'DriverAdapterError') return false;
  return (
    err.name === 'PrismaClientInitializationError' ||
    (typeof code === 'string' && PRISMA_UNREACHABLE.has(code)) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|Connection terminated|connect|timeout/i.test(err.message)
  );
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
