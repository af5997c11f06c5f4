/** The HTTP/1.1 side of the port: health, the REST API, the scrapyd API, the webhook paths, the web UI (/ and /ui/). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendJson } from './http-io.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface HttpAppParts {
  logger: Logger;
  ready: () => Promise<boolean>;
  rest: RouteHandler;
  scrapyd: { handles(pathname: string): boolean; handle: RouteHandler };
  jobFiles: { handles(pathname: string): boolean; handle: RouteHandler };
  /** /projects/{project}/spiders/{spider}/webhook (the product's webhook paths). */
  webhook: { handles(pathname: string): boolean; handle: RouteHandler };
  /** The web UI's pages and assets (/, /ui/...) and its session endpoint (/ui/api/session). */
  webUi: { handles(pathname: string): boolean; handle: RouteHandler };
  webSession: { handles(pathname: string): boolean; handle: RouteHandler };
}

export function makeHttpApp(parts: HttpAppParts) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: { code: 400, message: 'malformed request URL', status: 'INVALID_ARGUMENT' } });
      return;
    }
    route(req, res, url).catch((err: unknown) => {
      parts.logger.error({ err, path: url.pathname }, 'unhandled HTTP error');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: 'internal error', status: 'INTERNAL' } });
      else res.destroy();
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ok = await parts.ready().catch(() => false);
      return sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable' });
    }
    if (path.startsWith('/v1/')) return parts.rest(req, res, url);
    if (parts.scrapyd.handles(path)) return parts.scrapyd.handle(req, res, url);
    if (parts.jobFiles.handles(path)) return parts.jobFiles.handle(req, res, url);
    if (parts.webhook.handles(path)) return parts.webhook.handle(req, res, url);
    if (parts.webSession.handles(path)) return parts.webSession.handle(req, res, url);
    if (parts.webUi.handles(path)) return parts.webUi.handle(req, res, url);
    sendJson(res, 404, { error: { code: 404, message: `nothing at ${path}`, status: 'NOT_FOUND' } });
  }
}
