/**
 * The scrapyd JSON API (scrapyd 1.6 formats) so that scrapyd-deploy,
 * ScrapydWeb and curl work unchanged. Same domain, same pipeline and auth
 * as the gRPC and REST APIs; only the wire format differs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, type DomainError } from '../../errors/domain-error.js';
import type { Deps } from '../../domain/deps.js';
import type { Pipeline } from '../pipeline.js';
import type { CallContext } from '../call-context.js';
import { formParams, sendScrapyd, sendUnauthorized } from './scrapyd-io.js';
import * as endpoints from './scrapyd-endpoints.js';
import * as scrapydJobs from './scrapyd-jobs.js';
import { httpCall } from '../http/web-request.js';

type Endpoint = (req: IncomingMessage, url: URL, ctx: CallContext) => Promise<Record<string, unknown>>;

interface EndpointSpec {
  methods: readonly ('GET' | 'POST')[];
  run: Endpoint;
}

export function makeScrapydApi(opts: { deps: Deps; pipeline: Pipeline; nodeName: string }) {
  const { deps, nodeName } = opts;
  const withParams =
    (fn: (params: URLSearchParams, ctx: CallContext) => Promise<Record<string, unknown>>): Endpoint =>
    async (req, url, ctx) =>
      fn(await formParams(req, url), ctx);

  const table: Record<string, EndpointSpec> = {
    '/daemonstatus.json': { methods: ['GET'], run: async (_req, _url, ctx) => scrapydJobs.daemonstatus(deps, ctx) },
    '/addversion.json': { methods: ['POST'], run: (req, url, ctx) => endpoints.addVersion(deps, req, url, ctx) },
    '/listprojects.json': { methods: ['GET'], run: withParams((_p, ctx) => endpoints.listProjects(deps, ctx)) },
    '/listversions.json': { methods: ['GET'], run: withParams((p, ctx) => endpoints.listVersions(deps, p, ctx)) },
    '/listspiders.json': { methods: ['GET'], run: withParams((p, ctx) => endpoints.listSpiders(deps, p, ctx)) },
    '/delversion.json': { methods: ['POST'], run: withParams((p, ctx) => endpoints.delVersion(deps, p, ctx)) },
    '/delproject.json': { methods: ['POST'], run: withParams((p, ctx) => endpoints.delProject(deps, p, ctx)) },
    '/schedule.json': { methods: ['POST'], run: withParams((p, ctx) => scrapydJobs.schedule(deps, p, ctx)) },
    '/cancel.json': { methods: ['POST'], run: withParams((p, ctx) => scrapydJobs.cancel(deps, p, ctx)) },
    '/status.json': { methods: ['GET'], run: withParams((p, ctx) => scrapydJobs.status(deps, p, ctx)) },
    '/listjobs.json': { methods: ['GET'], run: withParams((p, ctx) => scrapydJobs.listjobs(deps, p, ctx)) },
  };

  return {
    handles: (pathname: string) => Object.hasOwn(table, pathname),
    async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
      const spec = table[url.pathname]!;
      const allow = ['OPTIONS', 'HEAD', ...spec.methods].join(', ');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { allow, 'access-control-allow-origin': '*', 'access-control-allow-methods': allow, 'access-control-allow-headers': 'authorization, content-type' });
        res.end();
        return;
      }
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      if (!spec.methods.includes(method as 'GET' | 'POST')) {
        req.resume();
        sendScrapyd(res, nodeName, { status: 'error', message: `Expected one of ${allow}` }, 405);
        return;
      }
      const call = httpCall(req, 'scrapyd', `scrapyd${url.pathname}`);
      try {
        const body = await opts.pipeline.run(call, (ctx) => spec.run(req, url, ctx));
        sendScrapyd(res, nodeName, { status: 'ok', ...body });
      } catch (raw) {
        const err = raw as DomainError;
        req.resume();
        if (err.code === Code.UNAUTHENTICATED) return sendUnauthorized(res);
        const message = err.code === Code.INTERNAL ? 'internal error' : err.message;
        sendScrapyd(res, nodeName, { status: 'error', message });
      }
    },
  };
}

