/**
 * Claims up to one job per free slot for a group of agents with the same
 * tags, in ONE transaction — the batched form of claim-job.ts, with the same
 * invariants:
 * - each job is claimed once: candidates are re-read FOR UPDATE SKIP LOCKED
 *   (PostgreSQL) and moved only out of PENDING;
 * - a spider's concurrency holds: its row is locked FOR NO KEY UPDATE (in id
 *   order, so
 *   concurrent claimers never deadlock) before its active jobs are counted,
 *   in a later statement whose snapshot sees what other claimers committed;
 * - order: priority, then the project served least recently, then age. A
 *   batch is filled from that order and every project it served moves to the
 *   back, so projects alternate batch by batch and no backlog starves another.
 *   (The candidate query reads only as many rows as there are free slots, by
 *   index, however long the queue.)
 */
import type { Db, Queryable } from '../storage/database.js';
import { jobRow, JOB_SELECT, type JobRow } from '../storage/jobs-repo.js';
import { idString, nowParam, toNumber } from '../storage/sql-dialect.js';
import { parseSpiderSettings } from '../domain/projects/spider-settings.js';

export interface BatchClaimant {
  nodeId: string;
  sessionId: string;
  free: number;
}

const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export async function claimBatch(db: Db, tags: readonly string[], claimants: readonly BatchClaimant[]): Promise<Map<string, JobRow[]>> {
  const total = claimants.reduce((n, c) => n + Math.max(0, c.free), 0);
  const result = new Map<string, JobRow[]>(claimants.map((c) => [c.sessionId, []]));
  if (total === 0) return result;
  return db.transaction(async (tx) => {
    const tagClause = tags.length === 0 ? `j.tag = ''` : `j.tag IN (${inList(tags.length)})`;
    const lock = tx.kind === 'postgres' ? 'FOR UPDATE OF j SKIP LOCKED' : '';
    const locked = await tx.query(
      `SELECT j.id, j.spider_id, j.project_id FROM jobs j JOIN projects p ON p.id = j.project_id
       WHERE j.state = 'PENDING' AND ${tagClause}
       ORDER BY j.priority DESC, p.dispatch_seq ASC NULLS FIRST, j.created_at ASC, j.id ASC
       LIMIT ? ${lock}`,
      [...tags, total * 2],
    );
    if (locked.length === 0) return result;
    const order = locked.map((r) => idString(r.id));
    const byId = new Map(locked.map((r) => [idString(r.id), { spiderId: idString(r.spider_id), projectId: idString(r.project_id) }]));
    const spiderIds = [...new Set([...byId.values()].map((v) => v.spiderId))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    if (spiderIds.length === 0) return result;
    const spiders = await tx.query(
      `SELECT id, settings_json FROM spiders WHERE id IN (${inList(spiderIds.length)}) ORDER BY id ${tx.kind === 'postgres' ? 'FOR NO KEY UPDATE' : ''}`,
      spiderIds,
    );
    const active = await tx.query(
      `SELECT spider_id, COUNT(*) AS n FROM jobs WHERE spider_id IN (${inList(spiderIds.length)}) AND state IN ('RUNNING', 'CANCELLING') GROUP BY spider_id`,
      spiderIds,
    );
    const room = new Map<string, number>();
    for (const s of spiders) room.set(idString(s.id), Math.max(1, parseSpiderSettings(String(s.settings_json)).concurrency));
    for (const a of active) room.set(idString(a.spider_id), (room.get(idString(a.spider_id)) ?? 0) - toNumber(a.n));

    // Deal the jobs out in order, one per claimant in turn.
    const slots = claimants.flatMap((c) => Array.from({ length: Math.max(0, c.free) }, (_, i) => ({ c, i }))).sort((x, y) => x.i - y.i).map((x) => x.c);
    const picks = new Map<string, string[]>();
    const projects = new Set<string>();
    let next = 0;
    for (const id of order) {
      if (next >= slots.length) break;
      const job = byId.get(id);
      if (!job || (room.get(job.spiderId) ?? 0) <= 0) continue;
      room.set(job.spiderId, room.get(job.spiderId)! - 1);
      const claimant = slots[next++]!;
      picks.set(claimant.sessionId, [...(picks.get(claimant.sessionId) ?? []), id]);
      projects.add(job.projectId);
    }
    if (next === 0) return result;
    const now = nowParam();
    const claimed: string[] = [];
    for (const c of claimants) {
      const ids = picks.get(c.sessionId);
      if (!ids?.length) continue;
      const moved = await tx.query(
        `UPDATE jobs SET state = 'RUNNING', node_id = ?, session_id = ?, started_at = ?, updated_at = ?
         WHERE id IN (${inList(ids.length)}) AND state = 'PENDING' RETURNING id`,
        [c.nodeId, c.sessionId, now, now, ...ids],
      );
      claimed.push(...moved.map((r) => idString(r.id)));
    }
    await touchProjects(tx, [...projects].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    const rows = (await tx.query(`${JOB_SELECT} WHERE j.id IN (${inList(claimed.length)})`, claimed)).map(jobRow);
    const bySession = new Map(rows.map((r) => [r.id, r]));
    for (const c of claimants) result.set(c.sessionId, (picks.get(c.sessionId) ?? []).map((id) => bySession.get(id)).filter((r): r is JobRow => r !== undefined));
    return result;
  });
}

/** Moves projects to the back of the round-robin, in id order (no lock-order deadlocks). */
async function touchProjects(tx: Queryable, projectIds: string[]): Promise<void> {
  for (const id of projectIds) {
    await tx.query(`UPDATE projects SET dispatch_seq = (SELECT COALESCE(MAX(dispatch_seq), 0) + 1 FROM projects) WHERE id = ?`, [id]);
  }
}
