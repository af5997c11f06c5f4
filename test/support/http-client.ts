/**
 * Small HTTP clients for integration tests of the HTTP/1.1 side of the port:
 * REST calls, the scrapyd JSON API (query, url-encoded and multipart forms),
 * each with a deadline so a hung server fails the test instead of stalling it.
 */
import type { TestServer } from './server-process.js';

export const REQUEST_TIMEOUT_MS = 30_000;

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (throws when it is not JSON). */
  readonly json: JsonObject;
}

// Test-only: bodies are compared whole with deepEqual or read field by field; a loose record keeps that short.
export type JsonObject = Record<string, any>;

export interface RequestOptions {
  /** The Authorization header value, e.g. basic('bob', 'pw') or `Bearer ${secret}`. */
  auth?: string;
  /** A JSON body (sent with content-type application/json). */
  json?: unknown;
  /** Any other body (FormData, Buffer, string). */
  body?: FormData | Buffer | string;
  headers?: Record<string, string>;
}

export async function request(server: TestServer, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== undefined) headers.authorization = opts.auth;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.json === 'string' ? opts.json : JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    body = Buffer.isBuffer(opts.body) ? new Uint8Array(opts.body) : opts.body;
  }
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    get json(): JsonObject {
      try {
        return JSON.parse(text) as JsonObject;
      } catch {
        throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${JSON.stringify(text)}`);
      }
    },
  };
}

/** A multipart form; Buffer values become file parts (named upload.egg), strings text fields, in order. */
export function multipart(fields: readonly (readonly [string, string | Buffer])[]): FormData {
  const form = new FormData();
  for (const [name, value] of fields) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value)], { type: 'application/octet-stream' }), 'upload.egg');
  }
  return form;
}

/** GET a scrapyd endpoint with query parameters. */
export function scrapydGet(server: TestServer, endpoint: string, params: Record<string, string> = {}, auth?: string): Promise<Reply> {
  const query = new URLSearchParams(params).toString();
  return request(server, 'GET', `/${endpoint}${query ? `?${query}` : ''}`, { auth });
}

/** POST a scrapyd endpoint with an application/x-www-form-urlencoded body. */
export function scrapydPost(server: TestServer, endpoint: string, params: Record<string, string> = {}, auth?: string): Promise<Reply> {
  return request(server, 'POST', `/${endpoint}`, {
    auth,
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** scrapyd's addversion.json as scrapyd-deploy sends it: project, version, then the egg file. */
export function addVersion(server: TestServer, auth: string | undefined, project: string, version: string, egg: Buffer): Promise<Reply> {
  return request(server, 'POST', '/addversion.json', {
    auth,
    body: multipart([
      ['project', project],
      ['version', version],
      ['egg', egg],
    ]),
  });
}

/** The names in a scrapyd listprojects.json answer (asserting it succeeded). */
export async function scrapydProjects(server: TestServer, auth?: string): Promise<string[]> {
  const reply = await scrapydGet(server, 'listprojects.json', {}, auth);
  if (reply.status !== 200 || reply.json.status !== 'ok') {
    throw new Error(`listprojects.json failed: ${reply.status} ${reply.text}`);
  }
  return reply.json.projects as string[];
}

/** Every scrapyd endpoint with the method it answers. */
export const SCRAPYD_ENDPOINTS: readonly { endpoint: string; method: 'GET' | 'POST' }[] = [
  { endpoint: 'daemonstatus.json', method: 'GET' },
  { endpoint: 'addversion.json', method: 'POST' },
  { endpoint: 'schedule.json', method: 'POST' },
  { endpoint: 'cancel.json', method: 'POST' },
  { endpoint: 'status.json', method: 'GET' },
  { endpoint: 'listprojects.json', method: 'GET' },
  { endpoint: 'listversions.json', method: 'GET' },
  { endpoint: 'listspiders.json', method: 'GET' },
  { endpoint: 'listjobs.json', method: 'GET' },
  { endpoint: 'delversion.json', method: 'POST' },
  { endpoint: 'delproject.json', method: 'POST' },
];

/** Calls a scrapyd endpoint with plausible parameters (a form for POST, a query for GET). */
export function scrapydCall(server: TestServer, endpoint: string, method: 'GET' | 'POST', auth?: string): Promise<Reply> {
  const params = { project: 'p', version: 'v', spider: 's', job: 'j' };
  return method === 'GET' ? scrapydGet(server, endpoint, params, auth) : scrapydPost(server, endpoint, params, auth);
}
