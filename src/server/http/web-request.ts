/**
 * The web UI's side of an HTTP request: the session cookie, the CSRF header
 * and the headers the CSRF checks compare; and the cookie itself (name,
 * flags) as the session endpoint sets and clears it.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { IncomingCall, Transport, WebRequest } from '../call-context.js';
import { header, peerAddress } from './http-io.js';

export const SESSION_COOKIE = 'scrapydd_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Sent by the web UI's API client on every call (api/client.ts). */
export const WEB_UI_HEADER = 'x-scrapydd-ui';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function webRequestOf(req: IncomingMessage): WebRequest {
  return {
    sessionToken: cookieValue(header(req, 'cookie'), SESSION_COOKIE),
    csrfToken: header(req, CSRF_HEADER),
    origin: header(req, 'origin'),
    host: header(req, 'host'),
    stateChanging: !SAFE_METHODS.has(req.method ?? 'GET'),
  };
}

/** A call from the web UI's own API client (it wants no Basic challenge on 401). */
export function isWebUiRequest(req: IncomingMessage): boolean {
  return header(req, WEB_UI_HEADER) !== undefined;
}

/** One cookie's value from a Cookie header; the first wins when repeated. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** True when the request came over the TLS listener. */
export function isTls(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

/** Set-Cookie for a new session; Max-Age follows the idle expiry, the server enforces both expiries. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** A present Origin must name the host the request was sent to (scheme aside: the listener may sit behind TLS). */
export function originMatchesHost(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, some redirects) and garbage never match
  }
}

/** An HTTP request as the pipeline sees it: credentials (Authorization or the session cookie), peer, request id. */
export function httpCall(req: IncomingMessage, transport: Transport, method: string, isPublic = false): IncomingCall {
  return {
    transport,
    method,
    authorization: header(req, 'authorization'),
    peerAddress: peerAddress(req),
    requestId: header(req, 'x-request-id'),
    web: webRequestOf(req),
    public: isPublic,
  };
}
