/**
 * The one way pages talk to the server: JSON over fetch with the session
 * cookie, the CSRF token on every state change, errors as ApiError. A 401
 * sends the user to the sign-in page (and back afterwards).
 *
 *   const project = await api.get<Project>('/v1/projects/p');
 *   await api.post('/v1/projects/p/spiders/s:run', { args: {} });
 */
import { ApiError, errorFromResponse, unreachableError } from './errors';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

let csrfToken = '';
let onUnauthenticated: (err: ApiError) => void = () => undefined;

/** Set by the session (session.tsx) after sign-in and on load. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called on any 401 from the API except the session endpoint's own. */
export function setUnauthenticatedHandler(handler: (err: ApiError) => void): void {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  /** Query parameters; undefined and '' values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** A body other than JSON (FormData for uploads). */
  body?: FormData | Blob;
  signal?: AbortSignal;
  /** Do not redirect to sign-in on 401 (the session calls handle it themselves). */
  noAuthRedirect?: boolean;
}

/**
 * One fetch as the web UI (`X-Scrapydd-UI`: a 401 then carries no Basic
 * challenge, so no browser sign-in box): the answer's text, or an ApiError
 * for a non-2xx (a 401 also sends the user to sign-in unless `noAuthRedirect`).
 */
export async function fetchText(url: string, init: RequestInit & { noAuthRedirect?: boolean } = {}): Promise<{ res: Response; text: string }> {
  const { noAuthRedirect, ...rest } = init;
  let res: Response;
  try {
    res = await fetch(url, { ...rest, headers: { ...(rest.headers as Record<string, string> | undefined), 'x-scrapydd-ui': '1' }, credentials: 'same-origin' });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw unreachableError();
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    const err = errorFromResponse(res.status, text);
    if (res.status === 401 && !noAuthRedirect) onUnauthenticated(err);
    throw err;
  }
  return { res, text };
}

export async function request<T>(method: Method, path: string, json?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let body: BodyInit | undefined = opts.body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const { res, text } = await fetchText(withQuery(path, opts.query), { method, headers, body, signal: opts.signal, noAuthRedirect: opts.noAuthRedirect });
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'INTERNAL', 'The server sent an answer that is not JSON.');
  }
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, undefined, opts),
  post: <T>(path: string, json?: unknown, opts?: RequestOptions) => request<T>('POST', path, json ?? (opts?.body ? undefined : {}), opts),
  patch: <T>(path: string, json: unknown, opts?: RequestOptions) => request<T>('PATCH', path, json, opts),
  del: <T = Record<string, never>>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, undefined, opts),
};

/**
 * A multipart upload (FormData) with progress: fetch cannot report upload
 * progress, so this one uses XMLHttpRequest, with the same CSRF header,
 * errors and 401 handling as request(). `onProgress` gets 0..1.
 */
export function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('x-scrapydd-ui', '1');
    if (csrfToken) xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(unreachableError());
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    xhr.onload = () => {
      const text = xhr.responseText ?? '';
      if (xhr.status < 200 || xhr.status >= 300) {
        const err = errorFromResponse(xhr.status, text);
        if (xhr.status === 401) onUnauthenticated(err);
        return reject(err);
      }
      try {
        resolve((text === '' ? undefined : JSON.parse(text)) as T);
      } catch {
        reject(new ApiError(xhr.status, 'INTERNAL', 'The server sent an answer that is not JSON.'));
      }
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** The REST path of a resource name: each segment encoded (`projects/a b/spiders/x` → `/v1/projects/a%20b/spiders/x`). */
export function resourcePath(name: string): string {
  return `/v1/${name.split('/').map(seg).join('/')}`;
}

/** Path segments are resource ids: encode each one (project names may hold dots, spiders odd characters). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}
