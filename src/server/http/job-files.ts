/**
 * The log and item URLs scrapyd clients open: /logs/{project}/{spider}/{job}.log
 * (text) and /items/{project}/{spider}/{job}.jl (JSON lines), streamed from
 * the stored chunks, behind the same pipeline as every call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../../domain/deps.js';
import { getJob } from '../../domain/jobs/job-service.js';
import { jobName } from '../../domain/jobs/job-names.js';
import { Code, NotFound, type DomainError } from '../../errors/domain-error.js';
import type { Pipeline } from '../pipeline.js';
import { toRestError } from '../errors/status.js';
import { streamChunks } from '../services/job-service-impl.js';
import { header, peerAddress, sendJson, sendText } from './http-io.js';
import { webRequestOf } from './web-request.js';

const PATH = /^\/(logs|items)\/([^/]+)\/([^/]+)\/([^/]+)\.(log|jl)$/;

export function isJobFilePath(pathname: string): boolean {
  return PATH.test(pathname);
}

export function makeJobFilesHandler(deps: Deps, pipeline: Pipeline) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const m = PATH.exec(url.pathname)!;
    const kind = m[1] === 'logs' ? 'log' : 'items';
    const call = {
      transport: 'rest' as const,
      method: `files/${m[1]}`,
      authorization: header(req, 'authorization'),
      peerAddress: peerAddress(req),
      requestId: header(req, 'x-request-id'),
      web: webRequestOf(req),
      public: false,
    };
    try {
      await pipeline.run(call, async (ctx) => {
        if ((kind === 'log') !== (m[5] === 'log')) throw new NotFound(`nothing at ${url.pathname}`);
        const [project, spider, key] = [m[2]!, m[3]!, m[4]!].map(decodeURIComponent) as [string, string, string];
        const job = await getJob(deps, ctx.principal, jobName(project, spider, key));
        const controller = new AbortController();
        res.on('close', () => controller.abort());
        res.writeHead(200, {
          'content-type': kind === 'log' ? 'text/plain; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'cache-control': 'no-store',
          'access-control-allow-origin': '*',
        });
        await streamChunks(deps, job.id, kind, 0, false, controller.signal, async (_first, values) => {
          if (!res.write(`${values.join('\n')}\n`)) await new Promise((r) => res.once('drain', r));
        });
        res.end();
      });
    } catch (raw) {
      const err = raw as DomainError;
      if (res.headersSent) return void res.destroy();
      if (err.code === Code.UNAUTHENTICATED) return sendText(res, 401, 'Unauthorized', { 'www-authenticate': 'Basic realm="scrapydd"' });
      const { httpStatus, body } = toRestError(err);
      sendJson(res, httpStatus, body);
    }
  };
}
