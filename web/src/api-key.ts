/**
 * The API key, for gateways that require one (API_KEYS_REQUIRED=true): a button
 * in the header opens a dialog to enter, change or forget it. It is kept in
 * localStorage and sent by `requestHeaders()` with every request (audio and CSV
 * are fetched as blobs, so they carry it too). A 401 answer opens the dialog by
 * itself, saying what was wrong, unless the visitor closed it moments ago.
 */
import { type ApiError, onUnauthorized, storeApiKey, storedApiKey } from './api.js';
import { announce, h } from './dom.js';

/** What the dialog says of each 401 answer. */
const PROBLEMS: Record<string, string> = {
  api_key_required: 'This platform needs an API key. Enter the key you were given (it starts with ser_).',
  invalid_api_key: 'The API key was not accepted: it is not a valid key. Check it and enter it again.',
  api_key_revoked: 'The API key has been revoked. Enter a new one.',
};

/** After the dialog is closed without a key, 401s do not reopen it for this long (a poll would, every few seconds). */
const QUIET_MS = 30_000;

export interface ApiKeyControl {
  element: HTMLElement;
  /** Called after a key is saved or forgotten: the page loads again what it could not. */
  onChange(listener: () => void): void;
}

export function apiKeyControl(): ApiKeyControl {
  const button = h('button', { type: 'button', class: 'btn btn-quiet small key-button', id: 'api-key-button' });
  const message = h('p', { id: 'api-key-message', class: 'key-message' });
  const input = h('input', {
    id: 'api-key-input',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'ser_…',
    'aria-describedby': 'api-key-message api-key-hint',
  });
  const problem = h('p', { id: 'api-key-problem', class: 'notice notice-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'api-key-save', text: 'Save' });
  const forget = h('button', { type: 'button', class: 'btn btn-quiet', id: 'api-key-forget', text: 'Forget the key' });
  const cancel = h('button', { type: 'button', class: 'btn btn-quiet', text: 'Cancel' });
  const form = h(
    'form',
    { method: 'dialog', class: 'key-form' },
    h('h2', { id: 'api-key-title', text: 'API key' }),
    message,
    h('label', { for: 'api-key-input', text: 'Key' }),
    input,
    h('p', {
      id: 'api-key-hint',
      class: 'muted small',
      text: 'It is kept in this browser only (local storage) and sent with every request to this gateway.',
    }),
    problem,
    h('div', { class: 'key-actions' }, save, forget, cancel),
  );
  const dialog = h('dialog', { id: 'api-key-dialog', class: 'key-dialog', 'aria-labelledby': 'api-key-title' }, form);
  const element = h('div', { class: 'key-slot' }, button, dialog);
  const listeners: (() => void)[] = [];
  let quietUntil = 0;

  const showState = () => {
    const set = storedApiKey() !== null;
    button.textContent = set ? 'API key ✓' : 'API key';
    button.setAttribute('aria-label', set ? 'API key: one is set. Change or forget it.' : 'API key: none is set. Enter one.');
    element.dataset.state = set ? 'set' : 'unset';
    forget.hidden = !set;
  };

  const open = (text: string, isProblem: boolean) => {
    message.textContent = text;
    message.setAttribute('role', isProblem ? 'alert' : 'status');
    message.classList.toggle('key-message-problem', isProblem);
    problem.hidden = true;
    input.value = '';
    if (!dialog.open) dialog.showModal();
    input.focus();
  };

  const changed = () => {
    showState();
    for (const listener of listeners) listener();
  };

  button.addEventListener('click', () =>
    open(
      storedApiKey()
        ? 'A key is set for this page. Enter another to replace it, or forget it.'
        : 'Enter the API key you were given (it starts with ser_).',
      false,
    ),
  );
  form.addEventListener('submit', (event) => {
    const key = input.value.trim();
    // Header values must be visible ASCII; anything else could never be a key.
    if (!/^[\x21-\x7e]+$/.test(key)) {
      event.preventDefault();
      problem.textContent = key ? 'A key has no spaces or accented letters: check what was pasted.' : 'Enter the key first.';
      problem.hidden = false;
      input.focus();
      return;
    }
    storeApiKey(key);
    quietUntil = 0;
    announce('The API key is saved.');
    changed();
  });
  forget.addEventListener('click', () => {
    storeApiKey(null);
    dialog.close();
    announce('The API key is forgotten.');
    changed();
  });
  cancel.addEventListener('click', () => {
    quietUntil = Date.now() + QUIET_MS;
    dialog.close();
  });
  // Escape closes a modal dialog too.
  dialog.addEventListener('cancel', () => {
    quietUntil = Date.now() + QUIET_MS;
  });

  onUnauthorized((err: ApiError) => {
    const text = PROBLEMS[err.code] ?? `The gateway refused the request: ${err.message}`;
    if (dialog.open) message.textContent = text;
    else if (Date.now() >= quietUntil) open(text, true);
  });

  showState();
  return {
    element,
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
