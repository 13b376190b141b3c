/**
 * `ser keys create|list|revoke`: the gateway's API keys, in the database named by
 * DATABASE_URL. A new key is printed once, alone on stdout (what to keep goes to
 * stderr), so `KEY=$(pnpm --silent ser keys create --name ci)` works; only its
 * SHA-256 is stored.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@ser/config';
import { type ApiKeyRow, apiKeyPrefix, createApiKey, createDb, databaseSettings, listApiKeys, revokeApiKey } from '@ser/db';
import { CliError } from '../errors.js';

export const DEFAULT_RATE_LIMIT = 600;

const USAGE = `usage:
  ser keys create --name NAME [--rate-limit N] [--json]   a new key (shown once); N requests per minute (default ${DEFAULT_RATE_LIMIT})
  ser keys list [--json]                                  every key: id, prefix, name, limit, created, last used, revoked
  ser keys revoke ID|PREFIX                               the key stops working within seconds (API_KEY_CACHE_MS)
DATABASE_URL names the database (default ${databaseSettings.databaseUrl.read(undefined)}).`;

const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function view(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    rateLimitPerMinute: row.rateLimitPerMinute,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

function table(rows: ApiKeyRow[]): string {
  const head = ['id', 'prefix', 'name', 'per minute', 'created', 'last used', 'revoked'];
  const body = rows.map((r) => [
    r.id,
    r.prefix,
    r.name,
    String(r.rateLimitPerMinute),
    iso(r.createdAt),
    iso(r.lastUsedAt),
    iso(r.revokedAt),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [head, ...body]
    .map((cells) =>
      cells
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function keys(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!['create', 'list', 'revoke'].includes(sub)) throw new CliError(`unknown keys command '${sub}'\n${USAGE}`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { name: { type: 'string' }, 'rate-limit': { type: 'string' }, json: { type: 'boolean', default: false } },
  });

  // Checked before connecting: a wrong call is exit code 2 whether or not the database answers.
  let name = '';
  let rateLimit = DEFAULT_RATE_LIMIT;
  if (sub === 'create') {
    name = values.name?.trim() ?? '';
    if (!name || name.length > 200) throw new CliError(`--name is required (1 to 200 characters)\n${USAGE}`);
    if (values['rate-limit'] !== undefined) {
      rateLimit = Number(values['rate-limit']);
      if (!/^\d+$/.test(values['rate-limit']) || rateLimit < 1 || rateLimit > 1_000_000)
        throw new CliError('--rate-limit must be a whole number of requests per minute, 1 to 1000000');
    }
    if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  }
  if (sub === 'revoke' && positionals.length !== 1) throw new CliError(`name one key to revoke, by id or prefix\n${USAGE}`);

  const { databaseUrl } = loadConfig('ser keys', { databaseUrl: databaseSettings.databaseUrl });
  const db = createDb(databaseUrl, { poolSize: 1 });
  try {
    if (sub === 'create') {
      const { key, row } = await createApiKey(db, { name, rateLimitPerMinute: rateLimit });
      if (values.json) process.stdout.write(`${JSON.stringify({ ...view(row), key })}\n`);
      else {
        process.stderr.write(
          `Created API key "${row.name}" (id ${row.id}, prefix ${row.prefix}, ${row.rateLimitPerMinute} requests per minute).\n` +
            'This is the only time the key is shown; keep it now (send it as x-api-key or Authorization: Bearer):\n',
        );
        process.stdout.write(`${key}\n`);
      }
    } else if (sub === 'list') {
      const rows = await listApiKeys(db);
      if (values.json) process.stdout.write(`${JSON.stringify(rows.map(view))}\n`);
      else process.stdout.write(rows.length ? `${table(rows)}\n` : 'no API keys\n');
    } else {
      // A whole key is accepted too: its prefix names it.
      const target = apiKeyPrefix(positionals[0]) ?? positionals[0];
      const revoked = await revokeApiKey(db, target);
      if (!revoked) {
        process.stderr.write(`ser: no API key with id or prefix '${target}'\n`);
        process.exitCode = 1;
        return;
      }
      const { row, changed } = revoked;
      process.stdout.write(
        changed
          ? `revoked API key ${row.prefix} ("${row.name}"); gateways refuse it within seconds\n`
          : `API key ${row.prefix} ("${row.name}") was already revoked at ${iso(row.revokedAt)}\n`,
      );
    }
  } finally {
    await db.$disconnect();
  }
}
