/** The eight emotions, in the model's label order, with the one colour each has everywhere on the page. */
export const EMOTIONS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];

/** Distinct hues (bar chart, pie chart, table dots and badges share them). */
export const EMOTION_COLOURS: Record<Emotion, string> = {
  neutral: '#8a8f98',
  calm: '#4aa3df',
  happy: '#f2b705',
  sad: '#3f5fb8',
  angry: '#d94848',
  fearful: '#8e5cc4',
  disgust: '#4f9d4a',
  surprised: '#f07c2a',
};

export function isEmotion(value: unknown): value is Emotion {
  return typeof value === 'string' && (EMOTIONS as readonly string[]).includes(value);
}

export function emotionLabel(emotion: string): string {
  return emotion.charAt(0).toUpperCase() + emotion.slice(1);
}

export function emotionColour(emotion: string): string {
  return isEmotion(emotion) ? EMOTION_COLOURS[emotion] : '#9aa1ab';
}
