/** Small helpers for node:http requests and responses. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgument, ResourceExhausted } from '../../errors/domain-error.js';

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads the whole body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ResourceExhausted(`request body is larger than ${limit} bytes`, { reason: 'BODY_TOO_LARGE' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ResourceExhausted(`request body is larger than ${limit} bytes`, { reason: 'BODY_TOO_LARGE' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A JSON body, or undefined when there is none. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, MAX_JSON_BODY_BYTES);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (err) {
    throw new InvalidArgument(`request body is not valid JSON: ${(err as Error).message}`, { reason: 'MALFORMED_JSON' });
  }
}

export function peerAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
