/**
 * API keys: `ser_<prefix>_<secret>`, where the prefix (12 hex characters) is the
 * key's public part, used to find its row, and the secret is 256 random bits
 * (base64url, 43 characters). Only the SHA-256 of the whole key is stored: for a
 * key with 256 bits of entropy a fast hash is enough (no dictionary to attack,
 * unlike passwords), and it is compared in constant time. The key itself is shown
 * once, when it is created.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Db } from './client.js';

export const API_KEY_PATTERN = /^ser_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  rateLimitPerMinute: number;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** SHA-256 of the whole key, hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The prefix of a well-formed key; null for anything else. */
export function apiKeyPrefix(key: string): string | null {
  return API_KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Whether `key` is the key whose hash `row` holds (constant time in the key's content). */
export function apiKeyMatches(row: Pick<ApiKeyRow, 'hash'>, key: string): boolean {
  const expected = Buffer.from(row.hash, 'hex');
  const actual = createHash('sha256').update(key, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A fresh key and what is stored of it. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('hex');
  const key = `ser_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** Creates a key; the returned `key` is the only time it is ever seen. */
export async function createApiKey(db: Db, input: { name: string; rateLimitPerMinute: number }): Promise<{ key: string; row: ApiKeyRow }> {
  for (let attempt = 0; ; attempt++) {
    const { key, prefix, hash } = generateApiKey();
    try {
      const row = await db.apiKey.create({
        data: { id: randomUUID(), name: input.name, prefix, hash, rateLimitPerMinute: input.rateLimitPerMinute },
      });
      return { key, row };
    } catch (err) {
      // Two keys with the same 48-bit prefix: draw again.
      if ((err as { code?: string }).code === 'P2002' && attempt < 3) continue;
      throw err;
    }
  }
}

/** Every key (revoked ones too), newest first. */
export async function listApiKeys(db: Db): Promise<ApiKeyRow[]> {
  return db.apiKey.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
}

export async function findApiKeyByPrefix(db: Db, prefix: string): Promise<ApiKeyRow | null> {
  return db.apiKey.findUnique({ where: { prefix } });
}

/**
 * Revokes the key with this id (or prefix). Idempotent: a key revoked before keeps
 * its first revocation time (`changed` is false then). Null when there is no such key.
 */
export async function revokeApiKey(db: Db, idOrPrefix: string): Promise<{ row: ApiKeyRow; changed: boolean } | null> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  const where = isUuid ? { id: idOrPrefix.toLowerCase() } : { prefix: idOrPrefix };
  const { count } = await db.apiKey.updateMany({ where: { ...where, revokedAt: null }, data: { revokedAt: new Date() } });
  const row = await db.apiKey.findFirst({ where });
  return row && { row, changed: count > 0 };
}

/** Records that the key was used (callers throttle this; it is not on every request). */
export async function touchApiKey(db: Db, id: string, at: Date = new Date()): Promise<void> {
  await db.apiKey.update({ where: { id }, data: { lastUsedAt: at } });
}
