import type { Db } from './client.js';
import type { RecordingInput, RecordingRow } from './types.js';

export async function createRecording(db: Db, input: RecordingInput): Promise<void> {
  await db.recording.create({ data: { ...input, bytes: BigInt(input.bytes) } });
}

export async function getRecording(db: Db, id: string): Promise<RecordingRow | null> {
  const row = await db.recording.findUnique({ where: { id } });
  return row && { ...row, bytes: Number(row.bytes) };
}

/** Fills in what decoding learned about the audio. */
export interface RecordingAudio {
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  format: string;
}
