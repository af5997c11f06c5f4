/**
 * Serves the web UI built by scripts/build-web.mjs from dist/web: index.html
 * for `/` and every client route under /ui/ (the SPA routes itself), the
 * hashed assets under /ui/assets/ with a year's immutable cache, and strict
 * security headers on all of it (no inline script, no framing).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { PACKAGE_ROOT } from '../../package-root.js';
import { sendJson } from './http-io.js';

export const UI_PREFIX = '/ui';
export const UI_API_PREFIX = '/ui/api/';
const ASSET_PREFIX = '/ui/assets/';

/** On every web UI response, pages, assets and /ui/api alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Whether a path belongs to the web UI's pages or assets (not /ui/api/, which has its own handler). */
export function isWebUiPath(pathname: string): boolean {
  return pathname === '/' || pathname === UI_PREFIX || (pathname.startsWith(`${UI_PREFIX}/`) && !pathname.startsWith(UI_API_PREFIX));
}

export function makeWebUiHandler(dir = join(PACKAGE_ROOT, 'dist', 'web')) {
  const { index, assets } = load(dir);
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: { code: 405, message: `${req.method} is not allowed here; use GET`, status: 'INVALID_ARGUMENT' } }, {
        ...SECURITY_HEADERS,
        allow: 'GET, HEAD',
      });
    }
    if (url.pathname.startsWith(ASSET_PREFIX)) {
      const asset = assets.get(url.pathname.slice(ASSET_PREFIX.length));
      if (!asset) return sendJson(res, 404, { error: { code: 404, message: `nothing at ${url.pathname}`, status: 'NOT_FOUND' } }, SECURITY_HEADERS);
      return send(res, req, 200, asset, 'public, max-age=31536000, immutable');
    }
    if (!index) {
      const body = Buffer.from('The web UI is not built: run `npm run build`.\n');
      return send(res, req, 503, { body, type: 'text/plain; charset=utf-8' }, 'no-store');
    }
    // Unknown client routes get the app too: it shows its own 404 page.
    send(res, req, 200, index, 'no-cache');
  };
}

function send(res: ServerResponse, req: IncomingMessage, status: number, asset: Asset, cacheControl: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': asset.type,
    'content-length': asset.body.length,
    'cache-control': cacheControl,
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

/** Reads the whole (small) build into memory once. */
function load(dir: string): { index: Asset | undefined; assets: Map<string, Asset> } {
  const assets = new Map<string, Asset>();
  let index: Asset | undefined;
  try {
    index = { body: readFileSync(join(dir, 'index.html')), type: 'text/html; charset=utf-8' };
    for (const name of readdirSync(join(dir, 'assets'))) {
      assets.set(name, { body: readFileSync(join(dir, 'assets', name)), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { index, assets };
}
