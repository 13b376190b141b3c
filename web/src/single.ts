/** One recording's result: the verdict, its waveform and player, and the eight confidences. */
import WaveSurfer from 'wavesurfer.js';
import { api, describeError, type Prediction } from './api.js';
import { confidenceBars } from './charts.js';
import { h, ICONS, icon } from './dom.js';
import { EMOTIONS, emotionColour, emotionLabel } from './emotions.js';
import { clock, percent } from './format.js';

export interface View {
  element: HTMLElement;
  dispose(): void;
}

export function singleView(prediction: Prediction): View {
  const colour = emotionColour(prediction.emotion);
  const ranked = [...EMOTIONS].sort((a, b) => prediction.probabilities[b] - prediction.probabilities[a]);
  const runnerUp = ranked[1];

  const playLabel = h('span', { text: 'Play' });
  let playIcon = icon(ICONS.play, 18);
  const playButton = h(
    'button',
    { type: 'button', class: 'btn btn-primary play-button', disabled: true, 'aria-label': 'Play the recording' },
    playIcon,
    playLabel,
  );
  const time = h('span', { class: 'time', 'aria-hidden': 'true', text: `${clock(0)} / ${clock(prediction.durationSeconds)}` });
  const waveNote = h('p', { class: 'wave-note', role: 'status', text: 'Loading the waveform…' });
  const waveform = h('div', {
    class: 'waveform',
    id: 'waveform',
    role: 'slider',
    tabindex: 0,
    'aria-label': 'Playback position (left and right arrows seek, space plays)',
    'aria-valuemin': 0,
    'aria-valuemax': Math.round(prediction.durationSeconds * 10) / 10,
    'aria-valuenow': 0,
    'aria-valuetext': `${clock(0)} of ${clock(prediction.durationSeconds)}`,
  });
  const audio = h('audio', { class: 'audio', preload: 'auto', 'aria-hidden': 'true' });

  const canvas = h('canvas', {
    role: 'img',
    'aria-label': `Confidence per emotion: ${ranked.map((e) => `${e} ${percent(prediction.probabilities[e])}`).join(', ')}`,
  });
  const timings = prediction.timings && Object.keys(prediction.timings).length > 0 ? prediction.timings : null;

  const element = h(
    'article',
    { class: 'card view single-view', 'aria-labelledby': 'single-title', 'data-view': 'single' },
    h(
      'header',
      { class: 'view-head' },
      h(
        'div',
        {},
        h('p', { class: 'eyebrow', text: 'One recording' }),
        h('h2', { id: 'single-title', class: 'filename', tabindex: -1, text: prediction.filename }),
        h('p', {
          class: 'meta',
          text: `${prediction.durationSeconds.toFixed(1)} s · model ${prediction.model.name} ${prediction.model.version}`,
        }),
      ),
    ),
    h(
      'div',
      { class: 'single-grid' },
      h(
        'div',
        { class: 'verdict', style: `--emotion: ${colour}` },
        h('p', { class: 'verdict-label', text: 'Predicted emotion' }),
        h(
          'p',
          { class: 'verdict-main', id: 'verdict', 'aria-live': 'polite' },
          h('span', { class: 'emotion-badge', 'data-emotion': prediction.emotion, text: emotionLabel(prediction.emotion) }),
          h('span', { class: 'verdict-confidence', text: percent(prediction.confidence) }),
          h('span', { class: 'visually-hidden', text: ' confidence' }),
        ),
        h('p', {
          class: 'verdict-sub',
          text: `confidence · next: ${emotionLabel(runnerUp)} ${percent(prediction.probabilities[runnerUp])}`,
        }),
      ),
      h('div', { class: 'player' }, waveform, waveNote, h('div', { class: 'player-controls' }, playButton, time), audio),
      h(
        'figure',
        { class: 'chart-figure bars-figure' },
        h('figcaption', { text: 'Confidence for each emotion' }),
        h('div', { class: 'chart-box chart-bars' }, canvas),
      ),
    ),
    timings
      ? h(
          'details',
          { class: 'timings' },
          h('summary', { text: 'Timings' }),
          h(
            'ul',
            {},
            ...Object.entries(timings).map(([stage, ms]) =>
              h('li', {}, h('span', { text: stage }), h('span', { text: `${ms.toFixed(ms < 10 ? 1 : 0)} ms` })),
            ),
          ),
        )
      : null,
  );

  // Screen-reader fallback of the chart: the numbers as a list inside the canvas.
  canvas.append(h('ul', {}, ...EMOTIONS.map((e) => h('li', { text: `${emotionLabel(e)}: ${percent(prediction.probabilities[e])}` }))));

  const chart = confidenceBars(canvas, prediction.probabilities);
  let wavesurfer: WaveSurfer | null = null;
  let objectUrl: string | null = null;
  let disposed = false;

  const setPlaying = (playing: boolean) => {
    const next = icon(playing ? ICONS.pause : ICONS.play, 18);
    playIcon.replaceWith(next);
    playIcon = next;
    playLabel.textContent = playing ? 'Pause' : 'Play';
    playButton.setAttribute('aria-label', playing ? 'Pause the recording' : 'Play the recording');
  };
  const showTime = (t: number) => {
    const d = wavesurfer?.getDuration() || prediction.durationSeconds;
    time.textContent = `${clock(t)} / ${clock(d)}`;
    waveform.setAttribute('aria-valuenow', String(Math.round(t * 10) / 10));
    waveform.setAttribute('aria-valuetext', `${clock(t)} of ${clock(d)}`);
  };

  (async () => {
    try {
      const blob = await api.audio(prediction.recordingId);
      if (disposed) return;
      objectUrl = URL.createObjectURL(blob);
      wavesurfer = WaveSurfer.create({
        container: waveform,
        media: audio,
        url: objectUrl,
        height: 96,
        waveColor: '#a3abbb',
        progressColor: colour,
        cursorColor: '#2b3140',
        cursorWidth: 2,
        barWidth: 2,
        barGap: 1,
        barRadius: 2,
        normalize: true,
        dragToSeek: true,
      });
      wavesurfer.on('ready', (duration) => {
        waveNote.textContent = '';
        waveNote.hidden = true;
        playButton.disabled = false;
        waveform.setAttribute('aria-valuemax', String(Math.round(duration * 10) / 10));
        showTime(0);
      });
      wavesurfer.on('timeupdate', showTime);
      wavesurfer.on('play', () => setPlaying(true));
      wavesurfer.on('pause', () => setPlaying(false));
      wavesurfer.on('finish', () => setPlaying(false));
      wavesurfer.on('error', (err) => {
        waveNote.hidden = false;
        waveNote.textContent = `This browser could not draw or play this recording (${err.message || 'unsupported format'}).`;
      });
    } catch (err) {
      if (disposed) return;
      waveNote.textContent = `The recording could not be loaded back: ${describeError(err)}`;
    }
  })();

  playButton.addEventListener('click', () => {
    void wavesurfer?.playPause();
  });
  waveform.addEventListener('keydown', (event) => {
    if (!wavesurfer) return;
    const t = wavesurfer.getCurrentTime();
    const d = wavesurfer.getDuration();
    const moves: Record<string, number> = {
      ArrowLeft: t - 1,
      ArrowDown: t - 1,
      ArrowRight: t + 1,
      ArrowUp: t + 1,
      Home: 0,
      End: d,
      PageDown: t - 5,
      PageUp: t + 5,
    };
    if (event.key in moves) {
      wavesurfer.setTime(Math.max(0, Math.min(d, moves[event.key])));
      event.preventDefault();
    } else if (event.key === ' ' || event.key === 'Enter') {
      void wavesurfer.playPause();
      event.preventDefault();
    }
  });

  return {
    element,
    dispose() {
      disposed = true;
      chart.destroy();
      wavesurfer?.destroy();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    },
  };
}
