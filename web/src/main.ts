/** The page: upload (one file → a prediction, several → a batch job), the result view, the model, past jobs. */
import './style.css';
import { api, describeError, type UploadProgress } from './api.js';
import { apiKeyControl } from './api-key.js';
import { batchView } from './batch.js';
import { announce, h, ICONS, icon } from './dom.js';
import { EMOTION_COLOURS, EMOTIONS } from './emotions.js';
import { fileSize, plural } from './format.js';
import { jobsList } from './jobs.js';
import { singleView, type View } from './single.js';
import { modelCard, readiness } from './status.js';
import { ACCEPT, checkSelection, MAX_FILE_BYTES, MAX_FILES } from './validate.js';

// One source for the emotion colours: CSS reads them from here.
for (const e of EMOTIONS) document.documentElement.style.setProperty(`--emotion-${e}`, EMOTION_COLOURS[e]);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const dropzone = $<HTMLButtonElement>('dropzone');
const input = $<HTMLInputElement>('file-input');
const messages = $<HTMLDivElement>('upload-messages');
const viewArea = $<HTMLDivElement>('view');
const hint = $<HTMLSpanElement>('dropzone-hint');

input.accept = ACCEPT;
hint.textContent = `WAV, FLAC, MP3, OGG, Opus or M4A, up to ${MAX_FILE_BYTES / (1024 * 1024)} MB each. One file is classified at once; several (up to ${MAX_FILES}) run as a batch job.`;

const status = readiness();
const apiKey = apiKeyControl();
$('status-slot').append(apiKey.element, status.element);
const model = modelCard();
const jobs = jobsList((id) => openJob(id));
$('model-slot').append(model.element);
$('jobs-slot').append(jobs.element);
void model.load();
void jobs.refresh();
status.onChange((state) => {
  if (state === 'ready') void model.load();
});
// A new (or no) API key: load again what a 401 stopped.
apiKey.onChange(() => {
  messages.replaceChildren();
  void model.load();
  void jobs.refresh();
  if (currentJob) {
    const id = currentJob;
    currentJob = null;
    openJob(id);
  }
});

let current: View | null = null;
let currentJob: string | null = null;
let busy = false;

function show(view: View | null, element?: HTMLElement) {
  current?.dispose();
  current = view;
  viewArea.replaceChildren(view?.element ?? element ?? placeholder());
}

function placeholder(): HTMLElement {
  return h(
    'div',
    { class: 'card placeholder' },
    h('p', { class: 'placeholder-title', text: 'Results appear here' }),
    h('p', {
      class: 'muted',
      text: 'One recording: its waveform, a player and the confidence for each of the eight emotions. Several: a batch job with live progress, a sortable table, charts and a CSV.',
    }),
  );
}

function uploadingCard(what: string): { element: HTMLElement; progress(p: UploadProgress): void; processing(text: string): void } {
  const bar = h('progress', { max: 1, value: 0, 'aria-labelledby': 'upload-text' });
  const text = h('p', { id: 'upload-text', class: 'progress-text', role: 'status', 'aria-live': 'polite', text: `Uploading ${what}…` });
  const element = h('div', { class: 'card view uploading', 'aria-busy': 'true' }, h('p', { class: 'eyebrow', text: 'Upload' }), text, bar);
  let lastPct = -1;
  return {
    element,
    progress({ loaded, total }) {
      bar.max = total;
      bar.value = loaded;
      const pct = Math.floor((loaded / total) * 100);
      if (pct !== lastPct && (pct === 100 || pct - lastPct >= 5)) {
        text.textContent = `Uploading ${what}: ${fileSize(loaded)} of ${fileSize(total)} (${pct} %)`;
        lastPct = pct;
      }
    },
    processing(message) {
      bar.removeAttribute('value');
      text.textContent = message;
    },
  };
}

function showMessages(lines: { title: string; items?: string[] }[], kind: 'error' | 'info' = 'error') {
  messages.replaceChildren(
    ...lines.map(({ title, items }) =>
      h(
        'div',
        { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
        icon(ICONS.alert, 18),
        h('div', {}, h('p', { text: title }), items?.length ? h('ul', {}, ...items.map((i) => h('li', { text: i }))) : null),
      ),
    ),
  );
}

async function handleFiles(fileList: FileList | File[]) {
  const files = [...fileList];
  if (files.length === 0 || busy) return;
  const selection = checkSelection(files);
  const lines: { title: string; items?: string[] }[] = [];
  if (selection.problem) lines.push({ title: selection.problem });
  if (selection.rejected.length)
    lines.push({
      title: `${plural(selection.rejected.length, 'file')} left out:`,
      items: selection.rejected.map((r) => `${r.file.name}: ${r.reason}`),
    });
  showMessages(lines);
  if (selection.accepted.length === 0) {
    announce(lines.map((l) => l.title).join(' '));
    return;
  }

  busy = true;
  dropzone.setAttribute('aria-disabled', 'true');
  const accepted = selection.accepted;
  const totalBytes = accepted.reduce((s, f) => s + f.size, 0);
  try {
    if (accepted.length === 1) {
      const [file] = accepted;
      const card = uploadingCard(`${file.name} (${fileSize(file.size)})`);
      show(null, card.element);
      reveal(false);
      currentJob = null;
      jobs.setCurrent(null);
      if (location.hash) history.pushState(null, '', location.pathname + location.search);
      const prediction = await api.predict(file, (p) => {
        card.progress(p);
        if (p.loaded === p.total) card.processing(`Classifying ${file.name}…`);
      });
      show(singleView(prediction));
      reveal(true);
      announce(`${prediction.filename}: ${prediction.emotion}, ${Math.round(prediction.confidence * 100)} percent confidence.`);
    } else {
      const card = uploadingCard(`${plural(accepted.length, 'file')} (${fileSize(totalBytes)})`);
      show(null, card.element);
      reveal(false);
      const job = await api.createJob(accepted, (p) => {
        card.progress(p);
        if (p.loaded === p.total) card.processing('Creating the job…');
      });
      openJob(job.id, { status: job.status, total: job.total });
      void jobs.refresh();
    }
  } catch (err) {
    show(null);
    const what = accepted.length === 1 ? accepted[0].name : plural(accepted.length, 'file');
    showMessages([...lines, { title: `${what} could not be analysed. ${describeError(err)}` }]);
    announce(`Upload failed. ${describeError(err)}`);
  } finally {
    busy = false;
    dropzone.removeAttribute('aria-disabled');
    input.value = '';
  }
}

function openJob(id: string, initial?: { status: 'queued' | 'running' | 'completed' | 'failed'; total: number }) {
  if (currentJob === id && current) return;
  currentJob = id;
  if (location.hash !== `#job/${id}`) history.pushState(null, '', `#job/${id}`);
  show(batchView(id, { initial, onFinished: () => void jobs.refresh() }));
  jobs.setCurrent(id);
  reveal(true);
}

/** Brings the result area's top into view when it is not; `focus` moves focus to its heading. */
function reveal(focus: boolean) {
  const { top } = viewArea.getBoundingClientRect();
  if (top < 0 || top > window.innerHeight * 0.5)
    viewArea.scrollIntoView({ behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth', block: 'start' });
  if (focus) viewArea.querySelector<HTMLElement>('h2[tabindex]')?.focus({ preventScroll: true });
}

function route() {
  const match = /^#job\/([0-9a-fA-F-]{36})$/.exec(location.hash);
  if (match) openJob(match[1]);
  else if (currentJob) {
    currentJob = null;
    jobs.setCurrent(null);
    show(null);
  }
}

// The drop zone is a button: a click, Enter or Space opens the file picker; files can be dropped on it.
dropzone.addEventListener('click', () => {
  if (!busy) input.click();
});
input.addEventListener('change', () => {
  if (input.files) void handleFiles(input.files);
});
let dragDepth = 0;
dropzone.addEventListener('dragenter', (e) => {
  e.preventDefault();
  dragDepth++;
  dropzone.classList.add('dragging');
});
dropzone.addEventListener('dragover', (e) => {
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
});
dropzone.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    dropzone.classList.remove('dragging');
  }
});
dropzone.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  dropzone.classList.remove('dragging');
  if (e.dataTransfer?.files.length) void handleFiles(e.dataTransfer.files);
});
// A file dropped beside the zone should not make the browser navigate away to it.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

window.addEventListener('popstate', route);
show(null);
route();
