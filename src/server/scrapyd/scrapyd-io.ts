/** scrapyd's wire conventions: node_name + status in every body, errors as 200, CORS, form parameters. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgument } from '../../errors/domain-error.js';
import { readBody } from '../http/http-io.js';
import { readMultipart } from '../http/multipart.js';

export function sendScrapyd(res: ServerResponse, nodeName: string, body: Record<string, unknown>, status = 200): void {
  const text = `${JSON.stringify({ node_name: nodeName, ...body })}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, x-requested-with',
  });
  res.end(text);
}

export function sendUnauthorized(res: ServerResponse): void {
  res.writeHead(401, {
    'content-type': 'text/plain',
    'content-length': 12,
    'www-authenticate': 'Basic realm="scrapydd"',
    'access-control-allow-origin': '*',
  });
  res.end('Unauthorized');
}

/** Query parameters plus, for POST, the url-encoded form body (repeated keys kept). */
export async function formParams(req: IncomingMessage, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.searchParams);
  const type = req.headers['content-type'] ?? '';
  if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) {
    const body = await readBody(req, 1024 * 1024);
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  } else if (req.method === 'POST' && type.startsWith('multipart/form-data')) {
    // curl -F project=x: the same parameters as a form; files are not expected here.
    const form = await readMultipart(req, { fileSize: 0, fields: 100 });
    form.file?.stream.resume();
    for (const [k, v] of await form.done) params.append(k, v);
  }
  return params;
}

export function required(params: URLSearchParams, name: string): string {
  const v = params.get(name);
  if (v === null || v === undefined || v === '') {
    throw new InvalidArgument(`'${name}' parameter is required`, { field: name, reason: 'MISSING_PARAMETER' });
  }
  return v;
}
