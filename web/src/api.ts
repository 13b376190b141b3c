/**
 * Every request the page makes goes through here, to the gateway that served it
 * (same origin, relative URLs). Headers every request carries are set in one place,
 * `requestHeaders`: an API key (`x-api-key`) goes there when the gateway asks for one.
 */
import type { Emotion } from './emotions.js';

export type Probabilities = Record<Emotion, number>;

export interface Prediction {
  id: string;
  recordingId: string;
  filename: string;
  emotion: Emotion;
  confidence: number;
  probabilities: Probabilities;
  model: { name: string; version: string };
  durationSeconds: number;
  timings?: Record<string, number>;
}

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface Job {
  id: string;
  status: JobStatus;
  total: number;
  succeeded: number;
  failed: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** One file's outcome in a job: a classification, or the error that stopped it. */
export interface ResultItem {
  id: string;
  recordingId: string;
  position?: number | null;
  filename: string;
  emotion: Emotion | null;
  confidence: number | null;
  probabilities: Probabilities | null;
  /** The gateway answers {code, message}; older shapes had a string and `errorCode`. */
  error: { code: string; message: string } | string | null;
  errorCode?: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An error answer of the API ({"error": {"code", "message"}}), or a failure to reach it (status 0). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

const API_KEY_STORAGE = 'ser.apiKey';

/** The API key entered on this page (kept in localStorage), or null. */
export function storedApiKey(): string | null {
  try {
    return localStorage.getItem(API_KEY_STORAGE);
  } catch {
    return null; // storage disabled
  }
}

/** Keeps (or, with null, forgets) the API key every request sends from now on. */
export function storeApiKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(API_KEY_STORAGE, key);
    else localStorage.removeItem(API_KEY_STORAGE);
  } catch {
    // storage disabled: nothing to keep
  }
}

/** The headers of every request: the API key (`x-api-key`) when one has been entered. */
export function requestHeaders(extra?: Record<string, string>): Record<string, string> {
  const key = storedApiKey();
  return { accept: 'application/json', ...(key ? { 'x-api-key': key } : {}), ...extra };
}

type UnauthorizedListener = (err: ApiError) => void;
const unauthorizedListeners: UnauthorizedListener[] = [];

/** Called with the error of every 401 answer (no key, a key not valid, a revoked key). */
export function onUnauthorized(listener: UnauthorizedListener): void {
  unauthorizedListeners.push(listener);
}

function unauthorized(err: ApiError): void {
  for (const listener of unauthorizedListeners) listener(err);
}

/** Any request to the gateway; answers the response whatever its status, throws ApiError(0) when unreachable. */
export async function apiRequest(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { ...requestHeaders(), ...(init.headers as Record<string, string> | undefined) } });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'The gateway could not be reached. Check the connection and try again.');
  }
  if (res.status === 401) unauthorized(await errorOf(res.clone()));
  return res;
}

/** The ApiError an error response stands for. */
export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  return errorFromBody(res.status, text);
}

export function errorFromBody(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; reason?: string } };
    if (body?.error && typeof body.error === 'object')
      return new ApiError(status, body.error.code ?? `http_${status}`, body.error.message ?? `HTTP ${status}`, body.error.reason);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(status, `http_${status}`, text.trim().slice(0, 200) || `The gateway answered HTTP ${status}.`);
}

/** A JSON request; a non-2xx answer throws its ApiError. */
export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await apiRequest(path, init);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * A multipart upload with progress (fetch cannot report it), carrying the same
 * headers as every other request. Resolves with the parsed JSON of a 2xx answer.
 */
export function apiUpload<T>(path: string, form: FormData, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(requestHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress?.({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch {
          reject(new ApiError(xhr.status, 'bad_response', 'The gateway answered something that is not JSON.'));
        }
      } else {
        const err = errorFromBody(xhr.status, xhr.responseText);
        if (xhr.status === 401) unauthorized(err);
        reject(err);
      }
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network_error', 'The upload could not reach the gateway. Check the connection and try again.'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

function filesForm(files: readonly File[]): FormData {
  const form = new FormData();
  for (const file of files) form.append('file', file, file.name);
  return form;
}

export const api = {
  predict: (file: File, onProgress?: (p: UploadProgress) => void) =>
    apiUpload<Prediction>('/v1/predictions', filesForm([file]), onProgress),
  createJob: (files: readonly File[], onProgress?: (p: UploadProgress) => void) =>
    apiUpload<{ id: string; status: JobStatus; total: number }>('/v1/jobs', filesForm(files), onProgress),
  job: (id: string, signal?: AbortSignal) => apiJson<Job>(`/v1/jobs/${encodeURIComponent(id)}`, { signal }),
  jobs: (limit = 20, cursor?: string | null) =>
    apiJson<Page<Job>>(`/v1/jobs?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  /** Every result of a job, page after page. */
  async results(id: string, signal?: AbortSignal): Promise<ResultItem[]> {
    const items: ResultItem[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<ResultItem> = await apiJson<Page<ResultItem>>(
        `/v1/jobs/${encodeURIComponent(id)}/results?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { signal },
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  },
  csvPath: (id: string) => `/v1/jobs/${encodeURIComponent(id)}/results.csv`,
  /** The job's CSV as a Blob (fetched, so that it carries the request headers). */
  async csv(id: string): Promise<Blob> {
    const res = await apiRequest(api.csvPath(id), { headers: { accept: 'text/csv' } });
    if (!res.ok) throw await errorOf(res);
    return res.blob();
  },
  /** A recording's audio as a Blob (fetched, so that it carries the request headers). */
  async audio(recordingId: string): Promise<Blob> {
    const res = await apiRequest(`/v1/recordings/${encodeURIComponent(recordingId)}/audio`, { headers: { accept: 'audio/*' } });
    if (!res.ok) throw await errorOf(res);
    return res.blob();
  },
  models: () => apiJson<unknown>('/v1/models'),
  /** GET /readyz: 200 ready, 503 naming what is not; both have a body worth reading. */
  async ready(signal?: AbortSignal): Promise<{ ok: boolean; status: number; body: unknown }> {
    const res = await apiRequest('/readyz', { signal, cache: 'no-store' });
    const body = await res.json().catch(() => null);
    return { ok: res.ok, status: res.status, body };
  },
};

/** What the page says of the gateway's 401 answers. */
export const API_KEY_PROBLEMS: Record<string, string> = {
  api_key_required: 'This platform needs an API key. Enter it with the “API key” button at the top of the page.',
  invalid_api_key: 'The API key was not accepted. Check it with the “API key” button at the top of the page.',
  api_key_revoked: 'The API key has been revoked. Enter a new one with the “API key” button at the top of the page.',
};

/** A sentence for people about an upload that went wrong. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const keyProblem = API_KEY_PROBLEMS[err.code];
  if (err.status === 401) return keyProblem ?? `Not authorised: ${err.message}`;
  const lead: Record<number, string> = {
    0: 'No connection',
    400: 'The request was refused',
    404: 'Not found',
    413: 'Too large',
    415: 'Not an audio file the platform reads',
    422: 'The audio could not be decoded',
    429: 'Too many requests',
    500: 'The gateway failed',
    503: 'The platform is not ready',
    504: 'The classification took too long',
  };
  const head = lead[err.status] ?? `HTTP ${err.status}`;
  if (err.status === 0) return err.message;
  const reason = err.reason ? ` (${err.reason})` : '';
  return `${head}: ${err.message}${reason}`;
}
