/**
 * CSV exports: RFC 4180 (CRLF line ends, fields with a comma, quote or line break
 * quoted, quotes doubled), and protected against formula injection: a text cell a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a
 * leading apostrophe, as OWASP recommends.
 */
import type { PredictionRow } from '@ser/db';
import { EMOTIONS } from '@ser/shared';

/** The columns every results export starts with, in this order. */
export const RESULT_COLUMNS = ['filename', 'emotion', 'confidence', ...EMOTIONS, 'error'] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell of text the client controls (file names, messages). */
export function textCell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** Probabilities are float32 in the database; six decimals is all they hold. */
export function numberCell(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  return String(Math.round(value * 1e6) / 1e6);
}

export function csvLine(cells: string[]): string {
  return `${cells.join(',')}\r\n`;
}

export function resultCells(row: PredictionRow): string[] {
  const error = row.errorCode || row.error ? [row.errorCode, row.error].filter(Boolean).join(': ') : '';
  return [
    textCell(row.filename),
    textCell(row.emotion),
    numberCell(row.confidence),
    ...EMOTIONS.map((e) => numberCell(row.probabilities?.[e])),
    textCell(error),
  ];
}

/** Header and rows as CSV lines, pulled from `rows` as the response is written. */
export async function* csvLines(
  rows: AsyncIterable<PredictionRow>,
  extra: { columns: string[]; cells(row: PredictionRow): string[] } = { columns: [], cells: () => [] },
): AsyncGenerator<string> {
  yield csvLine([...RESULT_COLUMNS, ...extra.columns]);
  for await (const row of rows) yield csvLine([...resultCells(row), ...extra.cells(row)]);
}
