/**
 * Pages for the fixture spiders to crawl: a node:http server on 127.0.0.1
 * serving a chain /page/0 → /page/1 → … → /page/{n-1}, one item each, each
 * answer optionally delayed (a slow crawl) or held until release() (a
 * crawl paused at a known point), counting the hits per page.
 */
import { createServer, type Server } from 'node:http';

export interface PageSite {
  /** The first page: pass it as the spiders' `url` argument. */
  readonly url: string;
  readonly pages: number;
  /** Requests per path. */
  readonly hits: Map<string, number>;
  /** Lets the held page (and every later one) be answered. */
  release(): void;
  close(): Promise<void>;
}

export interface PageSiteOptions {
  /** Delay of every answer. */
  delayMs?: number;
  /** Hold the answer to /page/{holdAt} until release(). */
  holdAt?: number;
}

export async function startPageSite(pages: number, opts: PageSiteOptions = {}): Promise<PageSite> {
  const hits = new Map<string, number>();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  if (opts.holdAt === undefined) release();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const m = /^\/page\/(\d+)$/.exec(path);
    const i = m ? Number(m[1]) : -1;
    const answer = () => {
      if (i < 0 || i >= pages) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page\n');
        return;
      }
      const next = i + 1 < pages ? `<a href="/page/${i + 1}">next</a>` : '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Page ${i}</title></head><body><p>page ${i}</p>${next}</body></html>\n`);
    };
    const delayed = () => setTimeout(answer, opts.delayMs ?? 0);
    if (opts.holdAt !== undefined && i >= opts.holdAt) void released.then(delayed);
    else delayed();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/page/0`,
    pages,
    hits,
    release,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The sites a suite starts, released and closed together in its after(). */
export class PageSites {
  readonly #all: PageSite[] = [];

  async start(pages: number, opts: PageSiteOptions = {}): Promise<PageSite> {
    const site = await startPageSite(pages, opts);
    this.#all.push(site);
    return site;
  }

  async closeAll(): Promise<void> {
    for (const site of this.#all.splice(0)) {
      site.release();
      await site.close();
    }
  }
}
