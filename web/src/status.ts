/** The platform's readiness (re-checked periodically) and the model it serves, with honest accuracy. */
import { api, describeError } from './api.js';
import { announce, append, h } from './dom.js';
import { percent } from './format.js';
import { type CheckLine, type ModelInfo, modelFigures, type ReadyState, readChecks, readModel } from './model-info.js';

const EVERY_MS = 15_000;
const EVERY_MS_NOT_READY = 4_000;

export interface Readiness {
  element: HTMLElement;
  /** Called with each new state (the model card reloads when the platform becomes ready). */
  onChange(listener: (state: ReadyState) => void): void;
}

export function readiness(): Readiness {
  const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
  const label = h('span', { class: 'ready-label', text: 'Checking…' });
  const summary = h('summary', { class: 'ready-pill', 'aria-label': 'Platform status: checking' }, dot, label);
  const list = h('ul', { class: 'checks', id: 'ready-checks' });
  const checked = h('p', { class: 'muted small' });
  const recheck = h('button', { type: 'button', class: 'btn btn-quiet small', text: 'Check now' });
  const element = h(
    'details',
    { class: 'readiness', id: 'readiness', 'data-state': 'checking' },
    summary,
    h(
      'div',
      { class: 'ready-panel' },
      h('p', { class: 'ready-title', text: 'Automatic platform checks' }),
      list,
      h('div', { class: 'ready-foot' }, checked, recheck),
    ),
  );
  const listeners: ((s: ReadyState) => void)[] = [];
  let state: ReadyState = 'checking';
  let timer: ReturnType<typeof setTimeout> | undefined;

  const show = (next: ReadyState, lines: CheckLine[], message?: string) => {
    const words: Record<ReadyState, string> = {
      ready: 'Ready',
      'not-ready': 'Not ready',
      unreachable: 'Unreachable',
      checking: 'Checking…',
    };
    const failing = lines.filter((l) => !l.ok).map((l) => l.name);
    label.textContent = next === 'not-ready' && failing.length ? `Not ready: ${failing.join(', ')}` : words[next];
    summary.setAttribute('aria-label', `Platform status: ${label.textContent}. Show the checks.`);
    element.dataset.state = next;
    list.replaceChildren(
      ...lines.map((l) =>
        h(
          'li',
          { class: l.ok ? 'ok' : 'bad' },
          h('span', { class: 'check-mark', 'aria-hidden': 'true', text: l.ok ? '✓' : '✗' }),
          h('span', { class: 'check-name', text: l.name }),
          h('span', { class: 'visually-hidden', text: l.ok ? ' ok' : ' failing' }),
          l.detail ? h('span', { class: 'check-detail', text: l.detail }) : null,
        ),
      ),
      ...(message ? [h('li', { class: 'bad' }, h('span', { class: 'check-detail', text: message }))] : []),
    );
    checked.textContent = `Checked at ${new Date().toLocaleTimeString()}`;
    if (next !== state) {
      if (state !== 'checking' || next !== 'ready') announce(`Platform status: ${label.textContent}`);
      state = next;
      for (const l of listeners) l(next);
    }
  };

  const check = async () => {
    clearTimeout(timer);
    try {
      const { ok, body } = await api.ready();
      const lines = readChecks(body);
      const message =
        !ok && lines.length === 0 && body && typeof body === 'object' && 'error' in body
          ? String((body as { error: { message?: string } }).error?.message ?? '')
          : undefined;
      show(ok ? 'ready' : 'not-ready', lines, message);
    } catch (err) {
      show('unreachable', [], describeError(err));
    }
    timer = setTimeout(check, state === 'ready' ? EVERY_MS : EVERY_MS_NOT_READY);
  };

  recheck.addEventListener('click', () => void check());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void check();
  });
  void check();

  return {
    element,
    onChange: (listener) => listeners.push(listener),
  };
}

export interface ModelCard {
  element: HTMLElement;
  load(): Promise<void>;
}

export function modelCard(): ModelCard {
  const body = h('div', { class: 'model-body', id: 'model-info' }, h('p', { class: 'muted', text: 'Loading the model…' }));
  const element = h(
    'section',
    { class: 'card side-card model-card', 'aria-labelledby': 'model-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'model-title', text: 'Model' })),
    body,
  );
  let loaded = false;

  const render = (model: ModelInfo) => {
    const { headline, others } = modelFigures(model.metrics);
    const facts: [string, string][] = [];
    if (model.architecture) facts.push(['Architecture', model.architecture]);
    if (model.parameterCount !== undefined) facts.push(['Parameters', model.parameterCount.toLocaleString('en')]);
    if (model.labels.length) facts.push(['Emotions', String(model.labels.length)]);
    body.replaceChildren();
    append(
      body,
      h(
        'p',
        { class: 'model-name' },
        h('strong', { text: model.name }),
        model.version ? h('span', { class: 'version', text: `v${model.version}` }) : null,
      ),
      headline
        ? h(
            'div',
            { class: 'headline', id: 'model-headline' },
            h(
              'p',
              { class: 'headline-figure' },
              h('span', { class: 'big', text: percent(headline.value) }),
              h('span', { text: ` ${headline.label.toLowerCase().replace('ua', 'UA')}` }),
            ),
            h(
              'p',
              { class: 'headline-note' },
              h('code', { text: headline.protocol }),
              h('span', { text: `: ${headline.note}${headline.count ? ` (${headline.count} test clips)` : ''}.` }),
            ),
          )
        : h('p', { class: 'muted', text: 'No accuracy figures were published with this model.' }),
      others.length
        ? h(
            'ul',
            { class: 'figures' },
            ...others.map((f) =>
              h(
                'li',
                {},
                h('span', { text: f.label }),
                h('strong', { text: `${percent(f.value)}${f.std !== undefined ? ` ± ${(f.std * 100).toFixed(1)}` : ''}` }),
                h('span', { class: 'muted small', text: f.protocol === headline?.protocol ? f.note : `${f.protocol}: ${f.note}` }),
              ),
            ),
          )
        : null,
      headline
        ? h('p', {
            class: 'muted small',
            text: 'UA: unweighted accuracy, the mean recall over the eight emotions (chance is 12.5 %).',
          })
        : null,
      facts.length ? h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])) : null,
    );
  };

  return {
    element,
    async load() {
      try {
        const model = readModel(await api.models());
        if (!model) body.replaceChildren(h('p', { class: 'muted', text: 'The gateway named no model.' }));
        else {
          render(model);
          loaded = true;
        }
      } catch (err) {
        if (!loaded)
          body.replaceChildren(h('p', { class: 'notice notice-error', text: `The model could not be read. ${describeError(err)}` }));
      }
    },
  };
}
