/** The small pure pieces: file names, CSV cells, byte ranges, callback URLs, content sniffing. */
import { describe, expect, it } from 'vitest';
import { numberCell, textCell } from '../src/csv.js';
import { parseCallbackUrl } from '../src/routes/jobs-create.js';
import { parseRange } from '../src/routes/recording-audio.js';
import { sniffAudio } from '../src/uploads/content-type.js';
import { sanitizeFilename } from '../src/uploads/filename.js';

describe('sanitizeFilename', () => {
  it('keeps the last path segment only', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFilename('C:\\Users\\me\\clip.wav')).toBe('clip.wav');
    expect(sanitizeFilename('dir/')).toBe('dir');
  });

  it('drops control and bidi-override characters, mends lone surrogates, and never answers empty', () => {
    expect(sanitizeFilename('a\u0000b\u0007c\u001b[31m.wav')).toBe('abc[31m.wav');
    expect(sanitizeFilename('evil\u202egnp.exe')).toBe('evilgnp.exe');
    expect(sanitizeFilename('x\ud800y.wav')).toBe('x\ufffdy.wav');
    for (const empty of [undefined, '', '..', '/', '\u0001']) expect(sanitizeFilename(empty)).toBe('upload');
    expect(sanitizeFilename('é'.normalize('NFD'))).toBe('é'.normalize('NFC'));
    expect([...sanitizeFilename('a'.repeat(1000))]).toHaveLength(255);
  });
});

describe('CSV cells', () => {
  it('quotes as RFC 4180 says and defuses what a spreadsheet would run', () => {
    expect(textCell('plain.wav')).toBe('plain.wav');
    expect(textCell('a,b.wav')).toBe('"a,b.wav"');
    expect(textCell('say "hi".wav')).toBe('"say ""hi"".wav"');
    expect(textCell('line\nbreak')).toBe('"line\nbreak"');
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(textCell(`${start}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(textCell('=cmd|"/c calc"!A1')).toBe(`"'=cmd|""/c calc""!A1"`);
    expect(textCell(null)).toBe('');
  });

  it('writes probabilities with six decimals at most', () => {
    expect(numberCell(0.123456789)).toBe('0.123457');
    expect(numberCell(1)).toBe('1');
    expect(numberCell(null)).toBe('');
  });
});

describe('parseRange', () => {
  it('resolves single byte ranges against the size', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
  });

  it('says unsatisfiable outside the file, and ignores what it cannot serve as one range', () => {
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    for (const header of [undefined, 'bytes=5-1', 'bytes=0-1,5-9', 'items=0-1', 'bytes=-', 'bytes=a-b'])
      expect(parseRange(header, 1000)).toBeNull();
  });
});

describe('parseCallbackUrl', () => {
  it('takes absolute http and https URLs only', () => {
    expect(parseCallbackUrl(' https://example.com/hook?x=1 ')).toBe('https://example.com/hook?x=1');
    expect(parseCallbackUrl('http://10.0.0.1:8080/cb')).toBe('http://10.0.0.1:8080/cb');
    for (const bad of ['', 'example.com/hook', 'ftp://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 42, undefined]) {
      expect(() => parseCallbackUrl(bad)).toThrow(/callbackUrl must be/);
    }
  });
});

describe('sniffAudio', () => {
  it('judges by the header, and takes an ID3 tag longer than the sniffed bytes as tagged MP3/FLAC', () => {
    expect(sniffAudio(Buffer.from('RIFF\u0000\u0000\u0000\u0000WAVEfmt '))).toBe('wav');
    expect(sniffAudio(Buffer.from('fLaC\u0000\u0000\u0000\u0022abcdefgh'))).toBe('flac');
    expect(sniffAudio(Buffer.from('just text, nothing else'))).toBeNull();
    const bigTag = Buffer.alloc(4096);
    bigTag.write('ID3\u0004\u0000\u0000', 0, 'latin1');
    bigTag.set([0x00, 0x08, 0x00, 0x00], 6); // 128 KiB of tag
    expect(sniffAudio(bigTag)).toBe('mp3');
  });
});
