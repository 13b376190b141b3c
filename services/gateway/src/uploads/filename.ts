/**
 * A client's file name, made safe to keep for display (JSON, CSV, logs). It never
 * becomes a storage key or a path: objects are stored under the recording id.
 */

const MAX_LENGTH = 255;
// C0/C1 controls (NUL included: PostgreSQL text refuses it) and the bidi overrides
// that can make "evil‮vaw.exe" read as "evilexe.wav".
const UNSAFE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
// A lone surrogate cannot be encoded as UTF-8 (it would be mangled on the way to the database).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function sanitizeFilename(raw: string | undefined, fallback = 'upload'): string {
  const last =
    (raw ?? '')
      .split(/[/\\]/)
      .filter((segment) => segment !== '')
      .at(-1) ?? '';
  let name = last.replace(LONE_SURROGATE, '\ufffd').normalize('NFC').replace(UNSAFE, '').trim();
  if (name === '.' || name === '..') name = '';
  if (name.length > MAX_LENGTH) name = [...name].slice(0, MAX_LENGTH).join('');
  return name || fallback;
}
