import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRavdessName, type RavdessClip } from './filename.js';

const AUDIO = /\.(wav|flac)$/i;

export class CorpusError extends Error {
  override name = 'CorpusError';
}

/** Every .wav and .flac file below a directory, sorted by path. */
export async function listAudioFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listAudioFiles(path)));
    else if (AUDIO.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/**
 * Every clip under a corpus root laid out like ../shared/ravdess (speech and song
 * folders, .wav or .flac), sorted by id. Refuses the corpus, naming each file,
 * when any audio file's name does not parse.
 */
export async function readCorpus(root: string): Promise<RavdessClip[]> {
  const files = await listAudioFiles(root).catch((err: NodeJS.ErrnoException) => {
    throw new CorpusError(`cannot read the corpus at ${root}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`);
  });
  const clips: RavdessClip[] = [];
  const bad: string[] = [];
  for (const path of files) {
    const parsed = parseRavdessName(path.replace(/^.*\//, ''), path);
    if (typeof parsed === 'string') bad.push(`${path}: ${parsed}`);
    else clips.push(parsed);
  }
  if (bad.length) throw new CorpusError(`${bad.length} file name(s) are not RAVDESS names:\n  ${bad.join('\n  ')}`);
  if (!clips.length) throw new CorpusError(`no .wav or .flac files under ${root}`);
  const seen = new Map<string, string>();
  for (const c of clips) {
    const other = seen.get(c.id);
    if (other) throw new CorpusError(`clip ${c.id} appears twice: ${other} and ${c.path}`);
    seen.set(c.id, c.path);
  }
  return clips.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
