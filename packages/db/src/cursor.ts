/** Opaque keyset cursors: (timestamp, id) for newest-first lists, position for job results. */

export class CursorError extends Error {
  override name = 'CursorError';
}

export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeTimeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const createdAt = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error();
    return { createdAt, id };
  } catch {
    throw new CursorError('cursor is not one this API gave out');
  }
}

export function decodePositionCursor(cursor: string): number {
  try {
    const [position] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [number];
    if (!Number.isInteger(position)) throw new Error();
    return position;
  } catch {
    throw new CursorError('cursor is not one this API gave out');
  }
}
