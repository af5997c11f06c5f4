/**
 * Web UI sign-in sessions: a random token in an HttpOnly cookie (only its
 * SHA-256 is stored), a CSRF token the UI sends back on every state change,
 * an idle expiry renewed by use and an absolute one. Sign-in uses the same
 * password check as every other transport, refuses disabled accounts, and
 * is slowed down after repeated failures (sign-in-throttle.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../auth/principal.js';
import { SignInThrottle } from '../../auth/sign-in-throttle.js';
import { InvalidArgument, ResourceExhausted, Unauthenticated } from '../../errors/domain-error.js';
import * as repo from '../../storage/web-sessions-repo.js';
import type { Deps } from '../deps.js';
import { signIn } from './user-service.js';
import { DEFAULT_WEB_SESSION_SETTINGS } from './web-session-settings.js';

export interface WebSession {
  readonly principal: Principal;
  readonly csrfToken: string;
  /** When the session ends at the latest (absolute expiry). */
  readonly expireTime: string;
  readonly sessionId: string;
}

/** A new session: the token goes into the cookie and nowhere else. */
export interface StartedWebSession extends WebSession {
  readonly token: string;
  /** Seconds until the idle expiry, for the cookie's Max-Age. */
  readonly maxAgeSeconds: number;
}

// Idle expiry is written at most this often per session: a busy UI is not a write per request.
const TOUCH_EVERY_MS = 60_000;
const throttle = new SignInThrottle();

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function startWebSession(deps: Deps, input: { username: string; password: string; clientIp: string }): Promise<StartedWebSession> {
  if (!input.username) throw new InvalidArgument('user name is required', { field: 'username' });
  if (!input.password) throw new InvalidArgument('password is required', { field: 'password' });
  const waitMs = throttle.waitMs(input.username, input.clientIp);
  if (waitMs > 0) {
    throw new ResourceExhausted(`too many failed sign-ins; try again in ${Math.ceil(waitMs / 1000)} s`, {
      reason: 'SIGN_IN_THROTTLED',
      metadata: { retryAfterSeconds: String(Math.ceil(waitMs / 1000)) },
    });
  }
  let principal: Principal;
  try {
    principal = await signIn(deps, input.username, input.password);
  } catch (err) {
    throttle.failed(input.username, input.clientIp);
    deps.logger.info({ user: input.username, ip: input.clientIp }, 'web sign-in refused');
    throw err;
  }
  throttle.succeeded(input.username, input.clientIp);
  const settings = deps.settings.webSessions ?? DEFAULT_WEB_SESSION_SETTINGS;
  const now = Date.now();
  const expireTime = new Date(now + settings.maxAgeSeconds * 1000);
  const idleExpireTime = new Date(Math.min(now + settings.idleSeconds * 1000, expireTime.getTime()));
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const sessionId = deps.ids.next();
  await repo.insertWebSession(deps.db, {
    id: sessionId,
    tokenHash: hashSessionToken(token),
    userId: principal.userId!,
    csrfToken,
    clientIp: input.clientIp,
    idleExpireTime,
    expireTime,
  });
  // Sweeping here keeps the table small without a timer; sign-ins are rare.
  await repo.deleteExpiredWebSessions(deps.db);
  deps.logger.info({ user: principal.username, ip: input.clientIp }, 'web session started');
  return {
    principal: { ...principal, method: 'web-session', webSessionId: sessionId },
    csrfToken,
    expireTime: expireTime.toISOString(),
    sessionId,
    token,
    maxAgeSeconds: Math.round((idleExpireTime.getTime() - now) / 1000),
  };
}

/** The session of a cookie's token; UNAUTHENTICATED when it is unknown, expired or its user disabled. */
export async function authenticateWebSession(deps: Deps, token: string): Promise<WebSession> {
  const row = await repo.findLiveWebSession(deps.db, hashSessionToken(token));
  if (!row) throw new Unauthenticated('your session has ended; sign in again', { reason: 'SESSION_EXPIRED' });
  if (row.disabled) throw new Unauthenticated('this account is disabled', { reason: 'ACCOUNT_DISABLED' });
  const now = Date.now();
  if (now - Date.parse(row.lastSeenTime) > TOUCH_EVERY_MS) {
    const settings = deps.settings.webSessions ?? DEFAULT_WEB_SESSION_SETTINGS;
    await repo.touchWebSession(deps.db, row.id, new Date(Math.min(now + settings.idleSeconds * 1000, Date.parse(row.expireTime))));
  }
  return {
    principal: { userId: row.userId, username: row.username, admin: row.admin, method: 'web-session', webSessionId: row.id },
    csrfToken: row.csrfToken,
    expireTime: row.expireTime,
    sessionId: row.id,
  };
}

export async function endWebSession(deps: Deps, token: string): Promise<void> {
  if (await repo.deleteWebSessionByHash(deps.db, hashSessionToken(token))) deps.logger.info('web session ended');
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfTokenMatches(sent: string | undefined, expected: string): boolean {
  if (!sent) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
