/** SQL for nodes and node keys. Times are parameters (ISO-8601), so callers and tests choose the clock. */
import type { Queryable, Row } from './database.js';
import { boolParam, idString, nowParam, optionalId, toBool, toIso, toNumber } from './sql-dialect.js';

export interface NodeRow {
  id: string;
  displayName: string;
  tags: string[];
  /** SHA-256 of the node token; undefined for temporary nodes. */
  secretHash: string | undefined;
  temporary: boolean;
  isOnline: boolean;
  clientIp: string;
  slots: number;
  agentVersion: string;
  /** The session that holds the node while it is online. */
  currentSessionId: string | undefined;
  lastHeartbeatTime: string | undefined;
  /** Jobs on the node in state RUNNING or CANCELLING. */
  runningJobs: number;
  createTime: string;
  updateTime: string;
}

export interface NodeKeyRow {
  id: string;
  secretHash: string;
  tags: string[];
  creatorId: string | undefined;
  createTime: string;
  expireTime: string;
  useTime: string | undefined;
}

const NODE_SELECT = `SELECT n.id, n.display_name, n.tags_json, n.secret_hash, n.temporary, n.is_online, n.client_ip,
  n.slots, n.agent_version, n.current_session_id, n.last_heartbeat_at, n.created_at, n.updated_at,
  (SELECT COUNT(*) FROM jobs j WHERE j.node_id = n.id AND j.state IN ('RUNNING', 'CANCELLING')) AS running_jobs
  FROM nodes n`;

const KEY_COLUMNS = 'id, secret_hash, tags_json, creator_id, created_at, expires_at, used_at';

function nodeRow(r: Row): NodeRow {
  return {
    id: idString(r.id),
    displayName: String(r.display_name),
    tags: JSON.parse(String(r.tags_json)) as string[],
    secretHash: r.secret_hash === null || r.secret_hash === undefined ? undefined : String(r.secret_hash),
    temporary: toBool(r.temporary),
    isOnline: toBool(r.is_online),
    clientIp: String(r.client_ip),
    slots: toNumber(r.slots),
    agentVersion: String(r.agent_version),
    currentSessionId: optionalId(r.current_session_id),
    lastHeartbeatTime: toIso(r.last_heartbeat_at),
    runningJobs: toNumber(r.running_jobs),
    createTime: toIso(r.created_at)!,
    updateTime: toIso(r.updated_at)!,
  };
}

function nodeKeyRow(r: Row): NodeKeyRow {
  return {
    id: idString(r.id),
    secretHash: String(r.secret_hash),
    tags: JSON.parse(String(r.tags_json)) as string[],
    creatorId: optionalId(r.creator_id),
    createTime: toIso(r.created_at)!,
    expireTime: toIso(r.expires_at)!,
    useTime: toIso(r.used_at),
  };
}

// ---- node keys ----

export async function insertNodeKey(
  q: Queryable,
  k: { id: string; secretHash: string; tags: string[]; creatorId: string | undefined; createdAt: Date; expiresAt: Date },
): Promise<NodeKeyRow> {
  const rows = await q.query(
    `INSERT INTO node_keys (id, secret_hash, tags_json, creator_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
     RETURNING ${KEY_COLUMNS}`,
    [k.id, k.secretHash, JSON.stringify(k.tags), k.creatorId ?? null, nowParam(k.createdAt), nowParam(k.expiresAt)],
  );
  return nodeKeyRow(rows[0]!);
}

export async function findNodeKey(q: Queryable, id: string): Promise<NodeKeyRow | undefined> {
  return (await q.query(`SELECT ${KEY_COLUMNS} FROM node_keys WHERE id = ?`, [id])).map(nodeKeyRow)[0];
}

/** Keys neither used nor expired at `now`, by id. */
export async function listUsableNodeKeys(q: Queryable, now: Date, afterId: string, limit: number): Promise<NodeKeyRow[]> {
  const rows = await q.query(
    `SELECT ${KEY_COLUMNS} FROM node_keys WHERE used_at IS NULL AND expires_at > ? AND id > ? ORDER BY id LIMIT ?`,
    [nowParam(now), afterId, limit],
  );
  return rows.map(nodeKeyRow);
}

export async function deleteNodeKey(q: Queryable, id: string): Promise<boolean> {
  return (await q.query(`DELETE FROM node_keys WHERE id = ? RETURNING id`, [id])).length > 0;
}

/**
 * Marks a key used if it is still unused and unexpired at `now`, in one
 * statement: of two concurrent registrations with one key, one gets the row.
 */
export async function consumeNodeKey(q: Queryable, id: string, now: Date): Promise<NodeKeyRow | undefined> {
  const at = nowParam(now);
  const rows = await q.query(
    `UPDATE node_keys SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ? RETURNING ${KEY_COLUMNS}`,
    [at, id, at],
  );
  return rows.map(nodeKeyRow)[0];
}

// ---- nodes ----

export async function insertNode(
  q: Queryable,
  n: {
    id: string;
    displayName: string;
    tags: string[];
    secretHash: string | undefined;
    temporary: boolean;
    clientIp: string;
    slots?: number;
    agentVersion?: string;
  },
): Promise<void> {
  const now = nowParam();
  await q.query(
    `INSERT INTO nodes (id, display_name, tags_json, secret_hash, temporary, is_online, client_ip, slots, agent_version,
       created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      n.id,
      n.displayName,
      JSON.stringify(n.tags),
      n.secretHash ?? null,
      boolParam(q.kind, n.temporary),
      boolParam(q.kind, false),
      n.clientIp,
      n.slots ?? 1,
      n.agentVersion ?? '',
      now,
      now,
    ],
  );
}

export async function findNode(q: Queryable, id: string): Promise<NodeRow | undefined> {
  return (await q.query(`${NODE_SELECT} WHERE n.id = ?`, [id])).map(nodeRow)[0];
}

export interface NodeFilter {
  isOnline?: boolean;
  temporary?: boolean;
  /** Nodes having this tag. */
  tag?: string;
}

/** Nodes by id after `afterId`, narrowed by `filter`. */
export async function listNodes(q: Queryable, filter: NodeFilter, afterId: string, limit: number): Promise<NodeRow[]> {
  const where = ['n.id > ?'];
  const params: unknown[] = [afterId];
  if (filter.isOnline !== undefined) where.push('n.is_online = ?'), params.push(boolParam(q.kind, filter.isOnline));
  if (filter.temporary !== undefined) where.push('n.temporary = ?'), params.push(boolParam(q.kind, filter.temporary));
  if (filter.tag !== undefined) {
    // Tags are [A-Za-z0-9_.-], so the quoted tag appears in the JSON array exactly as written (case-sensitive).
    where.push(`${q.kind === 'postgres' ? 'strpos' : 'instr'}(n.tags_json, ?) > 0`);
    params.push(JSON.stringify(filter.tag));
  }
  params.push(limit);
  const rows = await q.query(`${NODE_SELECT} WHERE ${where.join(' AND ')} ORDER BY n.id LIMIT ?`, params);
  return rows.map(nodeRow);
}

/** Renames a node or replaces its tags; false when there is no such node. */
export async function updateNode(q: Queryable, id: string, changes: { displayName?: string; tags?: string[] }): Promise<boolean> {
  const sets: string[] = [];
  const params: unknown[] = [];
  if (changes.displayName !== undefined) sets.push('display_name = ?'), params.push(changes.displayName);
  if (changes.tags !== undefined) sets.push('tags_json = ?'), params.push(JSON.stringify(changes.tags));
  sets.push('updated_at = ?');
  params.push(nowParam(), id);
  return (await q.query(`UPDATE nodes SET ${sets.join(', ')} WHERE id = ? RETURNING id`, params)).length > 0;
}

/** Deletes a node; its node_sessions rows go with it (ON DELETE CASCADE). */
export async function deleteNode(q: Queryable, id: string): Promise<boolean> {
  return (await q.query(`DELETE FROM nodes WHERE id = ? RETURNING id`, [id])).length > 0;
}

