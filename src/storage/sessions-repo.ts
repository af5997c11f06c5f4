/** SQL for node sessions and the online/heartbeat state of nodes they drive. */
import type { Queryable, Row } from './database.js';
import { boolParam, idString, nowParam, toBool, toIso } from './sql-dialect.js';

export interface SessionRow {
  id: string;
  nodeId: string;
  clientIp: string;
  active: boolean;
  createTime: string;
  lastHeartbeatTime: string;
  endTime: string | undefined;
}

function sessionRow(r: Row): SessionRow {
  return {
    id: idString(r.id),
    nodeId: idString(r.node_id),
    clientIp: String(r.client_ip),
    active: toBool(r.active),
    createTime: toIso(r.created_at)!,
    lastHeartbeatTime: toIso(r.last_heartbeat_at)!,
    endTime: toIso(r.ended_at),
  };
}

/** Opens a session and makes it the node's current one (a newer session replaces an older). */
export async function openSession(
  q: Queryable,
  s: { id: string; nodeId: string; clientIp: string; slots: number; agentVersion: string; tags?: readonly string[] },
): Promise<void> {
  const now = nowParam();
  await q.query(
    `UPDATE node_sessions SET active = ?, ended_at = ? WHERE node_id = ? AND active = ?`,
    [boolParam(q.kind, false), now, s.nodeId, boolParam(q.kind, true)],
  );
  await q.query(
    `INSERT INTO node_sessions (id, node_id, client_ip, active, created_at, last_heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)`,
    [s.id, s.nodeId, s.clientIp, boolParam(q.kind, true), now, now],
  );
  const tagsSql = s.tags ? ', tags_json = ?' : '';
  await q.query(
    `UPDATE nodes SET is_online = ?, current_session_id = ?, client_ip = ?, slots = ?, agent_version = ?, last_heartbeat_at = ?, updated_at = ?${tagsSql}
     WHERE id = ?`,
    [boolParam(q.kind, true), s.id, s.clientIp, s.slots, s.agentVersion, now, now, ...(s.tags ? [JSON.stringify(s.tags)] : []), s.nodeId],
  );
}

/**
 * Records heartbeats of sessions, one statement each for nodes and sessions
 * however many; returns the sessions that are still their node's current
 * one (the others were replaced, or their node deleted).
 */
export async function heartbeats(q: Queryable, beats: readonly { sessionId: string; nodeId: string }[]): Promise<Set<string>> {
  if (beats.length === 0) return new Set();
  const now = nowParam();
  const rows = await q.query(
    `WITH hb(hb_node, hb_session) AS (VALUES ${beats.map(() => '(CAST(? AS BIGINT), CAST(? AS BIGINT))').join(', ')})
     UPDATE nodes SET last_heartbeat_at = ?, is_online = ? FROM hb
     WHERE nodes.id = hb.hb_node AND nodes.current_session_id = hb.hb_session RETURNING current_session_id`,
    [...beats.flatMap((b) => [b.nodeId, b.sessionId]), now, boolParam(q.kind, true)],
  );
  const sessions = [...new Set(beats.map((b) => b.sessionId))];
  await q.query(`UPDATE node_sessions SET last_heartbeat_at = ? WHERE id IN (${sessions.map(() => '?').join(', ')})`, [now, ...sessions]);
  return new Set(rows.map((r) => idString(r.current_session_id)));
}

/** Ends a session; the node goes offline if this was its current session. */
export async function closeSession(q: Queryable, sessionId: string, nodeId: string): Promise<void> {
  const now = nowParam();
  await q.query(`UPDATE node_sessions SET active = ?, ended_at = ? WHERE id = ? AND active = ?`, [
    boolParam(q.kind, false), now, sessionId, boolParam(q.kind, true),
  ]);
  await q.query(`UPDATE nodes SET is_online = ?, current_session_id = NULL, updated_at = ? WHERE id = ? AND current_session_id = ?`, [
    boolParam(q.kind, false), now, nodeId, sessionId,
  ]);
}

/** Nodes silent since `cutoff` go offline; returns their ids. */
export async function expireSilentNodes(q: Queryable, cutoffIso: string): Promise<string[]> {
  const rows = await q.query(
    `UPDATE nodes SET is_online = ?, current_session_id = NULL WHERE is_online = ? AND last_heartbeat_at < ? RETURNING id`,
    [boolParam(q.kind, false), boolParam(q.kind, true), cutoffIso],
  );
  return rows.map((r) => idString(r.id));
}

/** Active jobs (RUNNING/CANCELLING) whose node has been silent since `cutoff` or is gone. */
export async function jobsOfSilentNodes(q: Queryable, cutoffIso: string): Promise<string[]> {
  const rows = await q.query(
    `SELECT j.id FROM jobs j LEFT JOIN nodes n ON n.id = j.node_id
     WHERE j.state IN ('RUNNING', 'CANCELLING') AND (n.id IS NULL OR n.last_heartbeat_at IS NULL OR n.last_heartbeat_at < ?)`,
    [cutoffIso],
  );
  return rows.map((r) => idString(r.id));
}

export async function findSession(q: Queryable, id: string): Promise<SessionRow | undefined> {
  return (await q.query(`SELECT * FROM node_sessions WHERE id = ?`, [id])).map(sessionRow)[0];
}

export async function listSessions(q: Queryable, before: string | undefined, limit: number, nodeId?: string): Promise<SessionRow[]> {
  const params: unknown[] = [];
  const parts: string[] = [];
  if (before) parts.push('id < ?'), params.push(before);
  if (nodeId) parts.push('node_id = ?'), params.push(nodeId);
  const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
  return (await q.query(`SELECT * FROM node_sessions ${w} ORDER BY id DESC LIMIT ?`, [...params, limit])).map(sessionRow);
}
