/**
 * One webhook request: POST a form body to the payload URL through the
 * address guard, within a time limit, redirects not followed. The outcome
 * says whether the item was accepted (2xx), and if not why, and whether
 * trying again may help.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { PACKAGE_VERSION } from '../../package-root.js';
import { BlockedAddressError, guardedLookup, nonPublicCategory } from './address-guard.js';

export type RequestOutcome = { ok: true; status: number } | { ok: false; error: string; permanent: boolean };

export interface WebhookRequest {
  url: string;
  body: string;
  /** X-Scrapydd-Delivery: <job key>/<item index>, for receivers that de-duplicate. */
  deliveryId: string;
  timeoutMs: number;
  allowPrivate: boolean;
  signal?: AbortSignal;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export function postForm(r: WebhookRequest): Promise<RequestOutcome> {
  let url: URL;
  try {
    url = new URL(r.url);
  } catch {
    return Promise.resolve({ ok: false, error: 'payload_url is not a valid URL', permanent: true });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!r.allowPrivate && isIP(host) !== 0 && nonPublicCategory(host)) {
    return Promise.resolve({ ok: false, error: `${host} is a ${nonPublicCategory(host)} address, which webhooks may not reach (webhook_allow_private)`, permanent: true });
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: RequestOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const req = client.request(url, {
      method: 'POST',
      agent: false, // a fresh connection, resolved and checked each time
      lookup: guardedLookup(r.allowPrivate),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(r.body),
        'user-agent': `scrapydd/${PACKAGE_VERSION}`,
        'x-scrapydd-delivery': r.deliveryId,
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, error: `no answer within ${r.timeoutMs / 1000} s (webhook_timeout)`, permanent: false });
    }, r.timeoutMs);
    const onAbort = () => {
      req.destroy();
      done({ ok: false, error: 'the server stopped', permanent: false });
    };
    r.signal?.addEventListener('abort', onAbort);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof BlockedAddressError) return done({ ok: false, error: err.message, permanent: true });
      done({ ok: false, error: `request failed: ${err.code ?? err.message}`, permanent: false });
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy(); // the answer's body is not used
      });
      const finish = () => {
        if (status >= 200 && status < 300) return done({ ok: true, status });
        if (status >= 300 && status < 400) {
          const to = res.headers.location ? ` to ${res.headers.location}` : '';
          return done({ ok: false, error: `HTTP ${status}: redirect${to} not followed`, permanent: false });
        }
        done({ ok: false, error: `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, permanent: false });
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    req.end(r.body);
  });
}
