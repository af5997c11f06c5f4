/**
 * The log and item URLs scrapyd clients open: /logs/{project}/{spider}/{job}.log
 * (text) and /items/{project}/{spider}/{job}.jl (JSON lines), streamed from
 * the stored chunks, behind the same pipeline as every call.
 *
 * The log takes `first_line` (0-based) and `max_lines` to read a part (the
 * web UI's live tail: it answers `X-First-Line` and `X-Log-Line-Count`, the
 * lines stored so far). Items take `format=jsonl|json|csv` for a download
 * with a file name, and `max_items` for the first items only (a preview) (see items-formats.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../../domain/deps.js';
import { getJob } from '../../domain/jobs/job-service.js';
import { jobName } from '../../domain/jobs/job-names.js';
import { Code, InvalidArgument, NotFound, type DomainError } from '../../errors/domain-error.js';
import type { Pipeline } from '../pipeline.js';
import { toRestError } from '../errors/status.js';
import { streamChunks } from '../services/job-service-impl.js';
import { sendJson, sendText } from './http-io.js';
import { attachment, collectKeys, csvRow, itemRecord, ITEMS_CONTENT_TYPES, ITEMS_EXTENSIONS, ITEMS_FORMATS, type ItemsFormat } from './items-formats.js';
import { httpCall, isWebUiRequest } from './web-request.js';

const PATH = /^\/(logs|items)\/([^/]+)\/([^/]+)\/([^/]+)\.(log|jl)$/;

export function isJobFilePath(pathname: string): boolean {
  return PATH.test(pathname);
}

export function makeJobFilesHandler(deps: Deps, pipeline: Pipeline) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const m = PATH.exec(url.pathname)!;
    const kind = m[1] === 'logs' ? 'log' : 'items';
    const call = httpCall(req, 'rest', `files/${m[1]}`);
    try {
      await pipeline.run(call, async (ctx) => {
        if ((kind === 'log') !== (m[5] === 'log')) throw new NotFound(`nothing at ${url.pathname}`);
        const [project, spider, key] = [m[2]!, m[3]!, m[4]!].map(decodeURIComponent) as [string, string, string];
        const job = await getJob(deps, ctx.principal, jobName(project, spider, key));
        const controller = new AbortController();
        res.on('close', () => controller.abort());
        const write = async (text: string) => {
          if (!res.write(text)) await new Promise((r) => res.once('drain', r));
        };
        if (kind === 'log') {
          const firstLine = intParam(url, 'first_line', 0);
          const maxLines = intParam(url, 'max_lines', Infinity);
          res.writeHead(200, {
            'content-type': 'text/plain; charset=utf-8',
            'cache-control': 'no-store',
            'access-control-allow-origin': '*',
            'x-first-line': String(firstLine),
            'x-log-line-count': String(job.logLineCount),
          });
          await streamChunks(deps, job.id, 'log', firstLine, false, controller.signal, (_first, values) => write(`${values.join('\n')}\n`), maxLines);
          return void res.end();
        }
        const format = url.searchParams.get('format');
        if (format !== null && !ITEMS_FORMATS.includes(format as ItemsFormat)) {
          throw new InvalidArgument(`format must be one of ${ITEMS_FORMATS.join(', ')}`, { field: 'format' });
        }
        const f = (format ?? 'jsonl') as ItemsFormat;
        const headers: Record<string, string> = { 'content-type': ITEMS_CONTENT_TYPES[f], 'cache-control': 'no-store', 'access-control-allow-origin': '*' };
        if (format !== null) headers['content-disposition'] = attachment(`${project}-${spider}-${key}.${ITEMS_EXTENSIONS[f]}`);
        const maxItems = intParam(url, 'max_items', Infinity);
        const items = (send: (values: string[]) => Promise<void>) =>
          streamChunks(deps, job.id, 'items', 0, false, controller.signal, (_first, values) => send(values), maxItems);
        if (f === 'csv') {
          // Two passes over the stored chunks: the header needs every key.
          const keys = new Set<string>();
          await items(async (values) => collectKeys(keys, values));
          const columns = [...keys];
          res.writeHead(200, headers);
          if (columns.length) await write(csvRow(columns));
          await items((values) => write(values.map((raw) => {
            const record = itemRecord(raw);
            return csvRow(columns.map((c) => record[c]));
          }).join('')));
        } else if (f === 'json') {
          res.writeHead(200, headers);
          let first = true;
          await write('[');
          await items((values) => {
            const text = `${first ? '\n' : ',\n'}${values.join(',\n')}`;
            first = false;
            return write(text);
          });
          await write(first ? ']\n' : '\n]\n');
        } else {
          res.writeHead(200, headers);
          await items((values) => write(`${values.join('\n')}\n`));
        }
        res.end();
      });
    } catch (raw) {
      const err = raw as DomainError;
      if (res.headersSent) return void res.destroy();
      // The web UI handles 401 itself; a Basic challenge would pop up the browser's own sign-in box.
      if (err.code === Code.UNAUTHENTICATED) return sendText(res, 401, 'Unauthorized', isWebUiRequest(req) ? {} : { 'www-authenticate': 'Basic realm="scrapydd"' });
      const { httpStatus, body } = toRestError(err);
      sendJson(res, httpStatus, body);
    }
  };
}

/** A non-negative integer query parameter, `fallback` when absent. */
function intParam(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,15}$/.test(raw)) throw new InvalidArgument(`${name} must be a non-negative integer`, { field: name });
  return Number(raw);
}
