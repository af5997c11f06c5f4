/** SQL for users and API keys. */
import type { Queryable, Row } from './database.js';
import { boolParam, idString, nowParam, toBool, toIso } from './sql-dialect.js';

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  admin: boolean;
  disabled: boolean;
  createTime: string;
}

export interface ApiKeyRow {
  id: string;
  userId: string;
  username: string;
  secretHash: string;
  displayName: string;
  createTime: string;
  lastUseTime: string | undefined;
}

const USER_COLUMNS = 'id, username, password_hash, is_admin, disabled, created_at';

function userRow(r: Row): UserRow {
  return {
    id: idString(r.id),
    username: String(r.username),
    passwordHash: String(r.password_hash),
    admin: toBool(r.is_admin),
    disabled: toBool(r.disabled),
    createTime: toIso(r.created_at)!,
  };
}

function apiKeyRow(r: Row): ApiKeyRow {
  return {
    id: idString(r.id),
    userId: idString(r.user_id),
    username: String(r.username),
    secretHash: String(r.secret_hash),
    displayName: String(r.display_name),
    createTime: toIso(r.created_at)!,
    lastUseTime: toIso(r.last_used_at),
  };
}

export async function insertUser(
  q: Queryable,
  u: { id: string; username: string; passwordHash: string; admin: boolean },
): Promise<UserRow> {
  const now = nowParam();
  const rows = await q.query(
    `INSERT INTO users (id, username, password_hash, is_admin, disabled, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [u.id, u.username, u.passwordHash, boolParam(q.kind, u.admin), boolParam(q.kind, false), now, now],
  );
  return rows.map(userRow)[0]!;
}

export async function findUserByName(q: Queryable, username: string): Promise<UserRow | undefined> {
  const rows = await q.query(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`, [username]);
  return rows.map(userRow)[0];
}

export async function findUserById(q: Queryable, id: string): Promise<UserRow | undefined> {
  const rows = await q.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
  return rows.map(userRow)[0];
}

export async function listUsers(q: Queryable, afterUsername: string, limit: number): Promise<UserRow[]> {
  const rows = await q.query(
    `SELECT ${USER_COLUMNS} FROM users WHERE username > ? ORDER BY username LIMIT ?`,
    [afterUsername, limit],
  );
  return rows.map(userRow);
}

export async function updateUser(
  q: Queryable,
  id: string,
  changes: { admin?: boolean; disabled?: boolean; passwordHash?: string },
): Promise<UserRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [];
  if (changes.admin !== undefined) sets.push('is_admin = ?'), params.push(boolParam(q.kind, changes.admin));
  if (changes.disabled !== undefined) sets.push('disabled = ?'), params.push(boolParam(q.kind, changes.disabled));
  if (changes.passwordHash !== undefined) sets.push('password_hash = ?'), params.push(changes.passwordHash);
  sets.push('updated_at = ?');
  params.push(nowParam(), id);
  const rows = await q.query(`UPDATE users SET ${sets.join(', ')} WHERE id = ? RETURNING ${USER_COLUMNS}`, params);
  return rows.map(userRow)[0];
}

export async function insertApiKey(
  q: Queryable,
  k: { id: string; userId: string; secretHash: string; displayName: string },
): Promise<void> {
  await q.query(
    `INSERT INTO api_keys (id, user_id, secret_hash, display_name, created_at) VALUES (?, ?, ?, ?, ?)`,
    [k.id, k.userId, k.secretHash, k.displayName, nowParam()],
  );
}

const API_KEY_SELECT = `SELECT k.id, k.user_id, u.username, k.secret_hash, k.display_name, k.created_at, k.last_used_at
  FROM api_keys k JOIN users u ON u.id = k.user_id`;

export async function findApiKey(q: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const rows = await q.query(`${API_KEY_SELECT} WHERE k.id = ?`, [id]);
  return rows.map(apiKeyRow)[0];
}

export async function listApiKeys(q: Queryable, userId: string, afterId: string, limit: number): Promise<ApiKeyRow[]> {
  const rows = await q.query(`${API_KEY_SELECT} WHERE k.user_id = ? AND k.id > ? ORDER BY k.id LIMIT ?`, [
    userId,
    afterId,
    limit,
  ]);
  return rows.map(apiKeyRow);
}

export async function deleteApiKey(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query(`DELETE FROM api_keys WHERE id = ? RETURNING id`, [id]);
  return rows.length > 0;
}

export async function touchApiKey(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`, [nowParam(), id]);
}
