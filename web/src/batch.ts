/** A batch job: live progress while it runs, then its results table, charts and CSV. */
import { ApiError, api, describeError, type Job, type ResultItem } from './api.js';
import { type Chart, confidenceHistogram, emotionPie } from './charts.js';
import { announce, h, ICONS, icon } from './dom.js';
import { EMOTIONS, emotionColour, emotionLabel, isEmotion } from './emotions.js';
import { elapsedSeconds, percent, plural, when } from './format.js';
import { emotionCounts, failureOf, histogram, type SortDir, type SortKey, sortResults } from './results.js';
import type { View } from './single.js';

const POLL_MS = 500;

export interface BatchOptions {
  /** What is known before the first poll (the 202 answer), if anything. */
  initial?: { status: Job['status']; total: number };
  /** Called once when the job is seen finished. */
  onFinished?: (job: Job) => void;
}

const STATUS_WORDS: Record<Job['status'], string> = { queued: 'Queued', running: 'Running', completed: 'Completed', failed: 'Failed' };

export function batchView(jobId: string, options: BatchOptions = {}): View {
  const controller = new AbortController();
  const charts: Chart[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const title = h('h2', {
    id: 'batch-title',
    tabindex: -1,
    text: options.initial ? `${plural(options.initial.total, 'file')}` : 'Batch job',
  });
  const meta = h('p', { class: 'meta', text: `Job ${jobId.slice(0, 8)}` });
  const chip = h('span', {
    class: `status-chip status-${options.initial?.status ?? 'queued'}`,
    text: STATUS_WORDS[options.initial?.status ?? 'queued'],
  });
  const progress = h('progress', {
    id: 'job-progress',
    max: Math.max(1, options.initial?.total ?? 1),
    value: 0,
    'aria-labelledby': 'progress-text',
  });
  const progressText = h('p', {
    id: 'progress-text',
    class: 'progress-text',
    role: 'status',
    'aria-live': 'polite',
    text: 'Waiting for the job…',
  });
  const csvButton = h(
    'button',
    { type: 'button', class: 'btn', id: 'download-csv', disabled: true },
    icon(ICONS.download, 18),
    h('span', { text: 'Download CSV' }),
  );
  const notice = h('div', { class: 'notice-area', 'aria-live': 'polite' });
  // Not a live region (a whole table would be read out): the announcer says when results arrive.
  const results = h('div', { class: 'batch-results', id: 'batch-results', 'aria-busy': 'true' });

  const element = h(
    'article',
    { class: 'card view batch-view', 'aria-labelledby': 'batch-title', 'data-view': 'batch', 'data-job-id': jobId },
    h(
      'header',
      { class: 'view-head' },
      h('div', {}, h('p', { class: 'eyebrow', text: 'Batch job' }), title, meta),
      h('div', { class: 'view-actions' }, csvButton),
    ),
    h('div', { class: 'progress-block' }, h('div', { class: 'progress-line' }, chip, progressText), progress),
    notice,
    results,
  );

  csvButton.addEventListener('click', async () => {
    csvButton.disabled = true;
    try {
      const blob = await api.csv(jobId);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `ser-job-${jobId.slice(0, 8)}.csv`, class: 'visually-hidden' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      announce('The CSV download has started.');
    } catch (err) {
      showNotice(`The CSV could not be downloaded. ${describeError(err)}`);
    } finally {
      csvButton.disabled = false;
    }
  });

  const showNotice = (message: string, kind: 'error' | 'info' = 'error') => {
    notice.replaceChildren(
      h(
        'p',
        { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
        icon(ICONS.alert, 18),
        h('span', { text: message }),
      ),
    );
  };

  let lastStatus: Job['status'] | null = null;
  const showJob = (job: Job) => {
    const done = job.succeeded + job.failed;
    title.textContent = plural(job.total, 'file');
    meta.textContent = `Job ${job.id.slice(0, 8)} · created ${when(job.createdAt)}`;
    chip.className = `status-chip status-${job.status}`;
    chip.textContent = STATUS_WORDS[job.status];
    progress.max = Math.max(1, job.total);
    progress.value = done;
    const seconds = elapsedSeconds(job.startedAt ?? job.createdAt, job.finishedAt ?? new Date().toISOString());
    const failedText = job.failed ? ` · ${job.failed} failed` : '';
    const text =
      job.status === 'queued'
        ? `Queued: ${plural(job.total, 'file')} waiting for a worker`
        : `${done} of ${job.total} done${failedText}${seconds !== null ? ` · ${seconds.toFixed(1)} s` : ''}`;
    if (progressText.textContent !== text) progressText.textContent = text;
    if (job.status !== lastStatus && lastStatus !== null) announce(`Job ${STATUS_WORDS[job.status].toLowerCase()}.`);
    lastStatus = job.status;
    element.dataset.status = job.status;
  };

  let failures = 0;
  const poll = async () => {
    try {
      const job = await api.job(jobId, controller.signal);
      failures = 0;
      notice.replaceChildren();
      showJob(job);
      if (job.status === 'completed' || job.status === 'failed') {
        await showResults(job);
        options.onFinished?.(job);
        return;
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      if (err instanceof ApiError && err.status === 404) {
        showNotice('This job does not exist (any more).');
        progressText.textContent = 'Not found';
        return;
      }
      failures++;
      showNotice(`Lost touch with the job, retrying… ${describeError(err)}`);
    }
    if (!controller.signal.aborted) timer = setTimeout(poll, failures ? Math.min(5000, POLL_MS * 2 ** failures) : POLL_MS);
  };

  const showResults = async (job: Job) => {
    let items: ResultItem[];
    try {
      items = await api.results(jobId, controller.signal);
    } catch (err) {
      if (controller.signal.aborted) return;
      showNotice(`The results could not be loaded. ${describeError(err)}`);
      const retry = h('button', { type: 'button', class: 'btn', text: 'Try again' });
      retry.addEventListener('click', () => {
        notice.replaceChildren();
        void showResults(job);
      });
      notice.append(retry);
      return;
    }
    if (controller.signal.aborted) return;
    csvButton.disabled = false;
    renderResults(job, items);
    results.setAttribute('aria-busy', 'false');
    const failed = items.filter((i) => failureOf(i) !== null).length;
    announce(`Job ${job.status}: ${plural(items.length - failed, 'file')} classified, ${failed} failed. The results table is below.`);
  };

  const renderResults = (job: Job, items: ResultItem[]) => {
    const ok = items.filter((i) => failureOf(i) === null && i.emotion);
    const failed = items.length - ok.length;
    const counts = emotionCounts(ok);
    const most = Math.max(...EMOTIONS.map((e) => counts[e]));
    const top = EMOTIONS.filter((e) => counts[e] === most); // ties named together
    const seconds = elapsedSeconds(job.startedAt ?? job.createdAt, job.finishedAt);

    const summary = h(
      'ul',
      { class: 'summary', id: 'batch-summary' },
      h('li', {}, h('strong', { text: String(ok.length) }), h('span', { text: ' classified' })),
      h('li', { class: failed ? 'has-failures' : '' }, h('strong', { text: String(failed) }), h('span', { text: ' failed' })),
      ok.length
        ? h(
            'li',
            {},
            h('span', { text: 'most often ' }),
            ...top.flatMap((e, i) => [i > 0 ? ' & ' : null, h('strong', { text: emotionLabel(e), style: `color: ${darken(e)}` })]),
          )
        : null,
      ok.length
        ? h(
            'li',
            {},
            h('span', { text: 'mean confidence ' }),
            h('strong', { text: percent(ok.reduce((s, i) => s + (i.confidence ?? 0), 0) / ok.length) }),
          )
        : null,
      seconds !== null ? h('li', {}, h('span', { text: 'took ' }), h('strong', { text: `${seconds.toFixed(1)} s` })) : null,
    );

    const pieCanvas = h('canvas', {
      id: 'emotion-pie',
      role: 'img',
      'aria-label': `Predicted emotions: ${EMOTIONS.filter((e) => counts[e])
        .map((e) => `${e} ${counts[e]}`)
        .join(', ')}`,
    });
    const bins = histogram(ok.map((i) => i.confidence ?? 0));
    const histCanvas = h('canvas', {
      id: 'confidence-histogram',
      role: 'img',
      'aria-label': `Confidences in ten bins from 0 to 100 %: ${bins.join(', ')}`,
    });
    const chartsGrid = ok.length
      ? h(
          'div',
          { class: 'charts-grid' },
          h(
            'figure',
            { class: 'chart-figure' },
            h('figcaption', { text: 'Predicted emotions' }),
            h('div', { class: 'chart-box chart-pie' }, pieCanvas),
          ),
          h(
            'figure',
            { class: 'chart-figure' },
            h('figcaption', { text: 'Confidence histogram' }),
            h('div', { class: 'chart-box chart-hist' }, histCanvas),
          ),
        )
      : h('p', { class: 'notice notice-info', text: 'No file was classified, so there is nothing to chart.' });

    const table = resultsTable(items);
    results.replaceChildren(
      summary,
      chartsGrid,
      h(
        'div',
        { class: 'table-head' },
        h('h3', { id: 'results-title', text: 'Results' }),
        h('p', { class: 'hint', text: 'Probabilities in %. Select a column heading to sort.' }),
      ),
      h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': 'results-title', tabindex: 0 }, table),
    );
    for (const c of charts.splice(0)) c.destroy();
    if (ok.length) charts.push(emotionPie(pieCanvas, counts), confidenceHistogram(histCanvas, bins));
  };

  void poll();

  return {
    element,
    dispose() {
      controller.abort();
      clearTimeout(timer);
      for (const c of charts.splice(0)) c.destroy();
    },
  };
}

/** The emotion's colour made dark enough for text on white. */
function darken(emotion: string): string {
  return `color-mix(in srgb, ${emotionColour(emotion)} 70%, black)`;
}

interface Column {
  key: SortKey;
  label: string;
  numeric: boolean;
}

const COLUMNS: Column[] = [
  { key: 'position', label: '#', numeric: true },
  { key: 'filename', label: 'File', numeric: false },
  { key: 'emotion', label: 'Emotion', numeric: false },
  { key: 'confidence', label: 'Confidence', numeric: true },
  ...EMOTIONS.map((e) => ({ key: e, label: emotionLabel(e), numeric: true })),
];

/** The results table, sortable by each column heading (a button, so keyboards work). */
export function resultsTable(items: readonly ResultItem[]): HTMLTableElement {
  let sortKey: SortKey = 'position';
  let sortDir: SortDir = 'ascending';
  const indexed = items.map((item, i) => ({ ...item, position: item.position ?? i }));

  const caption = h('caption', { class: 'visually-hidden' });
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h('table', { class: 'results-table', id: 'results-table' }, caption, h('thead', {}, headRow), tbody);

  const headers = COLUMNS.map((col) => {
    const arrow = h('span', { class: 'sort-arrow', 'aria-hidden': 'true' });
    const button = h(
      'button',
      { type: 'button', class: 'sort-button', 'data-sort': col.key },
      isEmotion(col.key) ? h('span', { class: 'col-dot', style: `background: ${emotionColour(col.key)}` }) : null,
      h('span', { text: col.label }),
      arrow,
    );
    const th = h('th', { scope: 'col', class: col.numeric ? 'num' : '' }, button);
    button.addEventListener('click', () => {
      if (sortKey === col.key) sortDir = sortDir === 'ascending' ? 'descending' : 'ascending';
      else {
        sortKey = col.key;
        // Numbers read best largest first; names and the original order from the top.
        sortDir = col.numeric && col.key !== 'position' ? 'descending' : 'ascending';
      }
      render();
    });
    headRow.append(th);
    return { col, th, arrow };
  });

  const render = () => {
    for (const { col, th, arrow } of headers) {
      const active = col.key === sortKey;
      if (active) th.setAttribute('aria-sort', sortDir);
      else th.removeAttribute('aria-sort');
      arrow.textContent = active ? (sortDir === 'ascending' ? '▲' : '▼') : '';
    }
    const label = COLUMNS.find((c) => c.key === sortKey)?.label ?? sortKey;
    caption.textContent = `Results, ${plural(items.length, 'file')}, sorted by ${label === '#' ? 'upload order' : label} (${sortDir})`;
    tbody.replaceChildren(...sortResults(indexed, sortKey, sortDir).map(row));
  };
  render();
  return table;
}

function row(item: ResultItem): HTMLTableRowElement {
  const failure = failureOf(item);
  const cells: Node[] = [
    h('td', { class: 'num muted', text: String((item.position ?? 0) + 1) }),
    h('th', { scope: 'row', class: 'file', title: item.filename, text: item.filename }),
  ];
  if (failure !== null || !item.emotion || !item.probabilities) {
    cells.push(
      h('td', {}, h('span', { class: 'emotion-badge failed', text: 'Failed' })),
      h('td', { class: 'num muted', text: '—' }),
      h(
        'td',
        { class: 'reason', colspan: EMOTIONS.length },
        // A block that adds no width of its own: a long reason wraps instead of widening the columns.
        h('span', { class: 'reason-text' }, h('span', { class: 'visually-hidden', text: 'Reason: ' }), failure ?? 'no result'),
      ),
    );
    return h('tr', { class: 'failed-row', 'data-failed': 'true' }, ...cells);
  }
  const probs = item.probabilities;
  cells.push(
    h('td', {}, h('span', { class: 'emotion-badge', 'data-emotion': item.emotion, text: emotionLabel(item.emotion) })),
    h(
      'td',
      { class: 'num confidence-cell' },
      h(
        'span',
        { class: 'mini-bar', 'aria-hidden': 'true' },
        h('span', { style: `width: ${((item.confidence ?? 0) * 100).toFixed(1)}%; background: ${emotionColour(item.emotion)}` }),
      ),
      h('span', { text: percent(item.confidence) }),
    ),
    ...EMOTIONS.map((e) => h('td', { class: `num prob${e === item.emotion ? ' top' : ''}`, text: (probs[e] * 100).toFixed(1) })),
  );
  return h('tr', { 'data-emotion': item.emotion }, ...cells);
}
