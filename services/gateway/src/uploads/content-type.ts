/** What an upload is, judged from its first bytes (never from its name or the client's Content-Type). */
import { type AudioFormat, sniffFormat } from '@ser/audio';

/** Enough for every header sniffFormat looks at (Ogg's identification header ends at byte 36). */
export const SNIFF_BYTES = 4096;

const CONTENT_TYPES: Record<AudioFormat, string> = {
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  'ogg-vorbis': 'audio/ogg',
  'ogg-opus': 'audio/ogg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  webm: 'audio/webm',
};

export function contentTypeOf(format: AudioFormat): string {
  return CONTENT_TYPES[format];
}

/**
 * The audio format of a file from its head, or null when it is not audio we can
 * decode. An ID3v2 tag (cover art can make it hundreds of KiB) may end beyond the
 * sniffed bytes; such a file is taken as MP3/FLAC-with-tag and left to the decoder.
 */
export function sniffAudio(head: Uint8Array): AudioFormat | null {
  const format = sniffFormat(head);
  if (format) return format;
  const isId3 = head.length >= 10 && head[0] === 0x49 && head[1] === 0x44 && head[2] === 0x33;
  if (isId3) {
    const tagEnd = 10 + (((head[6] & 0x7f) << 21) | ((head[7] & 0x7f) << 14) | ((head[8] & 0x7f) << 7) | (head[9] & 0x7f));
    if (tagEnd + 4 > head.length) return 'mp3';
  }
  return null;
}
