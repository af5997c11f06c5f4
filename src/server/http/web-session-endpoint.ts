/**
 * The web UI's sign-in: /ui/api/session.
 *   GET     who is signed in, with the CSRF token for state changes (401 when nobody)
 *   POST    sign in with {"username", "password"}: sets the HttpOnly session cookie
 *   DELETE  sign out (needs X-CSRF-Token): ends the session, clears the cookie
 * With enable_authentication = false every caller is the local admin and no
 * cookie is used. Errors are AIP-193 JSON like the REST API's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../../domain/deps.js';
import { authenticateWebSession, csrfTokenMatches, endWebSession, startWebSession, type WebSession } from '../../domain/users/web-session-service.js';
import { InvalidArgument, NotFound, PermissionDenied, toDomainError, Unauthenticated } from '../../errors/domain-error.js';
import { toRestError } from '../errors/status.js';
import type { Pipeline } from '../pipeline.js';
import { header, peerAddress, readJsonBody, sendJson } from './http-io.js';
import { clearedSessionCookie, isTls, originMatchesHost, sessionCookie, webRequestOf } from './web-request.js';
import { SECURITY_HEADERS } from './web-ui.js';

export const SESSION_PATH = '/ui/api/session';

export interface SessionAnswer {
  user: { name: string; admin: boolean };
  authenticationEnabled: boolean;
  /** Send as X-CSRF-Token on every state-changing request; empty when authentication is off. */
  csrfToken: string;
  expireTime?: string;
}

export function isWebSessionPath(pathname: string): boolean {
  return pathname === SESSION_PATH;
}

export function makeWebSessionHandler(deps: Deps, pipeline: Pipeline) {
  const authOn = deps.settings.enableAuthentication;

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const web = webRequestOf(req);
    const secure = isTls(req);
    const extra: Record<string, string> = {};
    const call = {
      transport: 'rest' as const,
      method: `ui/session/${method}`,
      authorization: undefined, // the cookie is checked here, not by the pipeline's authenticator
      peerAddress: peerAddress(req),
      requestId: header(req, 'x-request-id'),
      public: true,
    };
    try {
      const answer = await pipeline.run(call, async (): Promise<SessionAnswer | Record<string, never>> => {
        if (method === 'GET' || method === 'HEAD') {
          if (!authOn) return LOCAL;
          if (!web.sessionToken) throw new Unauthenticated('sign in to continue', { reason: 'NOT_SIGNED_IN' });
          return answerOf(await authenticateWebSession(deps, web.sessionToken));
        }
        if (method === 'POST') {
          if (!originMatchesHost(web.origin, web.host)) throw new PermissionDenied('cross-origin sign-in refused', { reason: 'ORIGIN_MISMATCH' });
          const body = await readJsonBody(req);
          if (!authOn) return LOCAL;
          const { username, password } = credentialsOf(body);
          const session = await startWebSession(deps, { username, password, clientIp: call.peerAddress });
          extra['set-cookie'] = sessionCookie(session.token, session.maxAgeSeconds, secure);
          return answerOf(session);
        }
        if (method === 'DELETE') {
          req.resume();
          if (!web.sessionToken) return {};
          let session: WebSession;
          try {
            session = await authenticateWebSession(deps, web.sessionToken);
          } catch {
            extra['set-cookie'] = clearedSessionCookie(secure); // already ended: just forget the cookie
            return {};
          }
          if (!originMatchesHost(web.origin, web.host)) throw new PermissionDenied('cross-origin sign-out refused', { reason: 'ORIGIN_MISMATCH' });
          if (!csrfTokenMatches(web.csrfToken, session.csrfToken)) {
            throw new PermissionDenied('missing or wrong X-CSRF-Token header: reload the page and try again', { reason: 'CSRF_TOKEN_INVALID' });
          }
          await endWebSession(deps, web.sessionToken);
          extra['set-cookie'] = clearedSessionCookie(secure);
          return {};
        }
        req.resume();
        throw new NotFound(`${method} ${SESSION_PATH} is not allowed; use GET, POST or DELETE`);
      });
      sendJson(res, 200, answer, { ...SECURITY_HEADERS, ...extra });
    } catch (raw) {
      req.resume();
      const err = toDomainError(raw);
      const { httpStatus, body } = toRestError(err);
      // A cookie that no longer works is cleared so the browser stops sending it.
      if (httpStatus === 401 && web.sessionToken) extra['set-cookie'] = clearedSessionCookie(secure);
      if (!res.headersSent) sendJson(res, httpStatus, body, { ...SECURITY_HEADERS, ...extra });
      else res.destroy();
    }
  };
}

const LOCAL: SessionAnswer = { user: { name: 'local', admin: true }, authenticationEnabled: false, csrfToken: '' };

function answerOf(s: WebSession): SessionAnswer {
  return {
    user: { name: s.principal.username, admin: s.principal.admin },
    authenticationEnabled: true,
    csrfToken: s.csrfToken,
    expireTime: s.expireTime,
  };
}

function credentialsOf(body: unknown): { username: string; password: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgument('send a JSON object {"username": ..., "password": ...}', { field: 'username' });
  }
  const { username, password } = body as Record<string, unknown>;
  if (typeof username !== 'string' || username.trim() === '') throw new InvalidArgument('user name is required', { field: 'username' });
  if (typeof password !== 'string' || password === '') throw new InvalidArgument('password is required', { field: 'password' });
  return { username: username.trim(), password };
}
