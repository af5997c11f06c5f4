/** SQL for the web UI's sign-in sessions (web_sessions), looked up by the hash of the cookie's token. */
import type { Queryable, Row } from './database.js';
import { idString, nowParam, toBool, toIso } from './sql-dialect.js';

export interface WebSessionRow {
  id: string;
  userId: string;
  username: string;
  admin: boolean;
  disabled: boolean;
  csrfToken: string;
  createTime: string;
  lastSeenTime: string;
  idleExpireTime: string;
  expireTime: string;
}

function sessionRow(r: Row): WebSessionRow {
  return {
    id: idString(r.id),
    userId: idString(r.user_id),
    username: String(r.username),
    admin: toBool(r.is_admin),
    disabled: toBool(r.disabled),
    csrfToken: String(r.csrf_token),
    createTime: toIso(r.created_at)!,
    lastSeenTime: toIso(r.last_seen_at)!,
    idleExpireTime: toIso(r.idle_expires_at)!,
    expireTime: toIso(r.expires_at)!,
  };
}

export async function insertWebSession(
  q: Queryable,
  s: { id: string; tokenHash: string; userId: string; csrfToken: string; clientIp: string; idleExpireTime: Date; expireTime: Date },
): Promise<void> {
  const now = nowParam();
  await q.query(
    `INSERT INTO web_sessions (id, token_hash, user_id, csrf_token, client_ip, created_at, last_seen_at, idle_expires_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [s.id, s.tokenHash, s.userId, s.csrfToken, s.clientIp, now, now, nowParam(s.idleExpireTime), nowParam(s.expireTime)],
  );
}

/** The live session with this token hash (neither expiry passed), with its user. */
export async function findLiveWebSession(q: Queryable, tokenHash: string, now: Date = new Date()): Promise<WebSessionRow | undefined> {
  const at = nowParam(now);
  const rows = await q.query(
    `SELECT s.id, s.user_id, u.username, u.is_admin, u.disabled, s.csrf_token, s.created_at, s.last_seen_at, s.idle_expires_at, s.expires_at
       FROM web_sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ? AND s.idle_expires_at > ? AND s.expires_at > ?`,
    [tokenHash, at, at],
  );
  return rows.map(sessionRow)[0];
}

/** Moves the idle expiry forward (never past the absolute one, which the caller caps). */
export async function touchWebSession(q: Queryable, id: string, idleExpireTime: Date): Promise<void> {
  await q.query(`UPDATE web_sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ?`, [nowParam(), nowParam(idleExpireTime), id]);
}

export async function deleteWebSessionByHash(q: Queryable, tokenHash: string): Promise<boolean> {
  const rows = await q.query(`DELETE FROM web_sessions WHERE token_hash = ? RETURNING id`, [tokenHash]);
  return rows.length > 0;
}

/** Ends every session of a user (password changed, account disabled). */
export async function deleteWebSessionsOfUser(q: Queryable, userId: string, exceptId?: string): Promise<number> {
  const rows = await q.query(`DELETE FROM web_sessions WHERE user_id = ? AND id <> ? RETURNING id`, [userId, exceptId ?? '0']);
  return rows.length;
}

/** Removes sessions past either expiry; called now and then from sign-in. */
export async function deleteExpiredWebSessions(q: Queryable, now: Date = new Date()): Promise<number> {
  const at = nowParam(now);
  const rows = await q.query(`DELETE FROM web_sessions WHERE idle_expires_at <= ? OR expires_at <= ? RETURNING id`, [at, at]);
  return rows.length;
}
