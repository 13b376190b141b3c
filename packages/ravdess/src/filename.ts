/**
 * RAVDESS file names: modality-channel-emotion-intensity-statement-repetition-actor,
 * e.g. 03-01-05-02-01-01-05 (audio-only, speech, angry, strong, "Kids...", 1st take, actor 5).
 */
import { EMOTIONS, type Emotion } from '@ser/shared';

export type VocalChannel = 'speech' | 'song';

export interface RavdessClip {
  /** File name without extension. */
  id: string;
  path: string;
  modality: number;
  channel: VocalChannel;
  emotion: Emotion;
  /** 0..7 in EMOTIONS order. */
  label: number;
  intensity: 'normal' | 'strong';
  statement: 1 | 2;
  repetition: 1 | 2;
  actor: number;
  sex: 'male' | 'female';
}

const NAME = /^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

/** Parses a RAVDESS file name; returns a reason instead when it is not one. */
export function parseRavdessName(fileName: string, path = fileName): RavdessClip | string {
  const base = fileName.replace(/^.*\//, '').replace(/\.(wav|flac)$/i, '');
  const m = NAME.exec(base);
  if (!m) return 'not seven two-digit fields (modality-channel-emotion-intensity-statement-repetition-actor)';
  const [modality, channel, emotion, intensity, statement, repetition, actor] = m.slice(1).map(Number);
  if (modality < 1 || modality > 3) return `modality ${modality} is not 01..03`;
  if (channel !== 1 && channel !== 2) return `vocal channel ${channel} is not 01 (speech) or 02 (song)`;
  if (emotion < 1 || emotion > 8) return `emotion ${emotion} is not 01..08`;
  if (intensity !== 1 && intensity !== 2) return `intensity ${intensity} is not 01 or 02`;
  if (emotion === 1 && intensity === 2) return 'neutral has no strong intensity';
  if (statement !== 1 && statement !== 2) return `statement ${statement} is not 01 or 02`;
  if (repetition !== 1 && repetition !== 2) return `repetition ${repetition} is not 01 or 02`;
  if (actor < 1 || actor > 24) return `actor ${actor} is not 01..24`;
  return {
    id: base,
    path,
    modality,
    channel: channel === 1 ? 'speech' : 'song',
    emotion: EMOTIONS[emotion - 1],
    label: emotion - 1,
    intensity: intensity === 1 ? 'normal' : 'strong',
    statement: statement as 1 | 2,
    repetition: repetition as 1 | 2,
    actor,
    sex: actor % 2 === 1 ? 'male' : 'female',
  };
}
