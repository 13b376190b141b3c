/** Past jobs, newest first, each reopenable. */
import { api, describeError, type Job } from './api.js';
import { h, ICONS, icon } from './dom.js';
import { plural, when } from './format.js';

export interface JobsList {
  element: HTMLElement;
  refresh(): Promise<void>;
  setCurrent(id: string | null): void;
}

export function jobsList(open: (id: string) => void): JobsList {
  const list = h('ul', { class: 'job-list', id: 'job-list' });
  const empty = h('p', { class: 'muted empty', text: 'No jobs yet. Choose several files to start one.' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const more = h('button', { type: 'button', class: 'btn btn-quiet more', hidden: true, text: 'Show older jobs' });
  const refreshButton = h(
    'button',
    { type: 'button', class: 'icon-button', 'aria-label': 'Refresh past jobs', title: 'Refresh' },
    icon(ICONS.refresh, 18),
  );
  const element = h(
    'section',
    { class: 'card side-card jobs-card', 'aria-labelledby': 'jobs-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'jobs-title', text: 'Past jobs' }), refreshButton),
    error,
    empty,
    list,
    more,
  );

  let current: string | null = null;
  let cursor: string | null = null;
  const jobs: Job[] = [];

  const item = (job: Job) => {
    const done = job.succeeded + job.failed;
    const detail =
      job.status === 'completed' || job.status === 'failed'
        ? `${job.succeeded} ok${job.failed ? ` · ${job.failed} failed` : ''}`
        : `${done} of ${job.total} done`;
    const button = h(
      'button',
      { type: 'button', class: 'job-item', 'data-job-id': job.id, 'aria-current': job.id === current ? 'true' : null },
      h(
        'span',
        { class: 'job-line' },
        h('span', { class: 'job-title', text: plural(job.total, 'file') }),
        h('span', { class: `status-chip status-${job.status}`, text: job.status }),
      ),
      h('span', { class: 'job-meta', text: `${detail} · ${when(job.createdAt)}` }),
    );
    button.addEventListener('click', () => open(job.id));
    return h('li', {}, button);
  };

  const render = () => {
    list.replaceChildren(...jobs.map(item));
    empty.hidden = jobs.length > 0;
    more.hidden = !cursor;
  };

  const load = async (reset: boolean) => {
    try {
      const page = await api.jobs(20, reset ? null : cursor);
      if (reset) jobs.length = 0;
      const seen = new Set(jobs.map((j) => j.id));
      jobs.push(...page.items.filter((j) => !seen.has(j.id)));
      cursor = page.nextCursor;
      error.hidden = true;
      render();
    } catch (err) {
      error.textContent = `Past jobs could not be loaded. ${describeError(err)}`;
      error.hidden = false;
    }
  };

  refreshButton.addEventListener('click', () => void load(true));
  more.addEventListener('click', () => void load(false));

  return {
    element,
    refresh: () => load(true),
    setCurrent(id) {
      current = id;
      for (const b of list.querySelectorAll<HTMLButtonElement>('.job-item')) {
        if (b.dataset.jobId === id) b.setAttribute('aria-current', 'true');
        else b.removeAttribute('aria-current');
      }
    },
  };
}
