/** The three charts (chart.js, only the parts used), with the emotion colours of the rest of the page. */
import { ArcElement, BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, PieController, Tooltip } from 'chart.js';
import { EMOTION_COLOURS, EMOTIONS, type Emotion, emotionLabel } from './emotions.js';
import { histogramLabels } from './results.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, PieController, ArcElement, Tooltip, Legend);
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily || 'system-ui, sans-serif';
Chart.defaults.color = '#3d4451';

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const animation = () => (reducedMotion() ? false : ({ duration: 350 } as const));
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

/** A horizontal bar per emotion: its probability. */
export function confidenceBars(canvas: HTMLCanvasElement, probabilities: Record<Emotion, number>): Chart<'bar'> {
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: EMOTIONS.map(emotionLabel),
      datasets: [
        {
          label: 'Confidence',
          data: EMOTIONS.map((e) => probabilities[e]),
          backgroundColor: EMOTIONS.map((e) => EMOTION_COLOURS[e]),
          borderRadius: 4,
          maxBarThickness: 26,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: animation(),
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => pct(c.parsed.x ?? 0) } } },
      scales: {
        x: { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(Number(v) * 100)} %` }, grid: { color: '#eceef2' } },
        y: { grid: { display: false } },
      },
    },
  });
}

/** A slice per predicted emotion (emotions never predicted are left out). */
export function emotionPie(canvas: HTMLCanvasElement, counts: Record<Emotion, number>): Chart<'pie'> {
  const present = EMOTIONS.filter((e) => counts[e] > 0);
  return new Chart(canvas, {
    type: 'pie',
    data: {
      labels: present.map(emotionLabel),
      datasets: [
        {
          data: present.map((e) => counts[e]),
          backgroundColor: present.map((e) => EMOTION_COLOURS[e]),
          borderColor: '#fff',
          borderWidth: 2,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: animation(),
      plugins: {
        legend: {
          position: (canvas.parentElement?.clientWidth ?? 500) < 420 ? 'bottom' : 'right',
          labels: { boxWidth: 12, boxHeight: 12 },
        },
        tooltip: { callbacks: { label: (c) => ` ${c.label}: ${c.parsed} file${c.parsed === 1 ? '' : 's'}` } },
      },
    },
  });
}

/** How many files fell in each confidence bin. */
export function confidenceHistogram(canvas: HTMLCanvasElement, bins: number[]): Chart<'bar'> {
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: histogramLabels(bins.length),
      datasets: [
        { label: 'Files', data: bins, backgroundColor: '#5b6cf0', borderRadius: 3, barPercentage: 0.95, categoryPercentage: 0.95 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: animation(),
      plugins: { legend: { display: false } },
      scales: {
        x: {
          title: { display: true, text: 'Confidence of the predicted emotion' },
          grid: { display: false },
          ticks: { maxRotation: 0, autoSkip: true },
        },
        y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Files' }, grid: { color: '#eceef2' } },
      },
    },
  });
}

export type { Chart };
