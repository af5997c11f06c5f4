/**
 * The claim: the statements that decide who runs what. Claims up to one job
 * per free slot for a group of agents with the same tags, in one transaction
 * of five statements however many jobs it claims. Invariants:
 * - each job is claimed once: candidates are read FOR UPDATE SKIP LOCKED
 *   (PostgreSQL; SQLite transactions are serial) and moved only out of
 *   PENDING, so concurrent claimers take different jobs instead of waiting;
 * - a spider never runs more than its `concurrency` jobs: its row is locked
 *   FOR NO KEY UPDATE (in id order, so concurrent claimers never deadlock;
 *   inserts of new jobs only take a key-share lock and go on) before its
 *   active jobs are counted, in a later statement whose snapshot (READ
 *   COMMITTED) sees what other claimers committed;
 * - tags follow the documented table: agents with tags run only jobs whose
 *   tag they have; agents without tags run only untagged jobs;
 * - order: priority, then the project served least recently, then age. A
 *   batch is filled from that order and every project it served moves to the
 *   back, so projects alternate batch by batch and no backlog starves another.
 */
import type { Db, Queryable } from '../storage/database.js';
import { jobRow, type JobRow } from '../storage/jobs-repo.js';
import { idString, nowParam, toNumber } from '../storage/sql-dialect.js';
import { parseSpiderSettings } from '../domain/projects/spider-settings.js';

export interface BatchClaimant {
  nodeId: string;
  sessionId: string;
  free: number;
}

/** A claimed job with what its assignment needs besides the job. */
export interface ClaimedJob extends JobRow {
  /** The spider's extra requirements, read under the claim's lock. */
  extraRequirements: string[];
}

const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const byIdNumber = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : 1);

export interface ClaimResult {
  /** Claimed jobs by session id (every claimant has an entry). */
  jobs: Map<string, ClaimedJob[]>;
  /**
   * Candidates were passed over because their spider reached its
   * concurrency in this batch while slots were left: another claim may
   * find jobs behind them.
   */
  passedOver: boolean;
}

export async function claimBatch(db: Db, tags: readonly string[], claimants: readonly BatchClaimant[]): Promise<ClaimResult> {
  const total = claimants.reduce((n, c) => n + Math.max(0, c.free), 0);
  const jobs = new Map<string, ClaimedJob[]>(claimants.map((c) => [c.sessionId, []]));
  const result = { jobs, passedOver: false };
  if (total === 0) return result;
  return db.transaction(async (tx) => {
    const tagClause = tags.length === 0 ? `j.tag = ''` : `j.tag IN (${inList(tags.length)})`;
    const lock = tx.kind === 'postgres' ? 'FOR UPDATE OF j SKIP LOCKED' : '';
    // Spiders already at their concurrency are left out here (as of this
    // statement's snapshot), so that one spider's backlog cannot fill the
    // candidates with jobs none of which may start; the count after the lock
    // below is what decides.
    const locked = await tx.query(
      `WITH busy AS (SELECT spider_id, COUNT(*) AS n FROM jobs WHERE state IN ('RUNNING', 'CANCELLING') GROUP BY spider_id)
       SELECT j.id, j.spider_id, j.project_id, p.name AS project_name, s.name AS spider_name
       FROM jobs j JOIN projects p ON p.id = j.project_id JOIN spiders s ON s.id = j.spider_id LEFT JOIN busy b ON b.spider_id = j.spider_id
       WHERE j.state = 'PENDING' AND ${tagClause} AND COALESCE(b.n, 0) < s.concurrency
       ORDER BY j.priority DESC, p.dispatch_seq ASC NULLS FIRST, j.created_at ASC, j.id ASC
       LIMIT ? ${lock}`,
      [...tags, total * 2],
    );
    if (locked.length === 0) return result;
    const candidates = locked.map((r) => ({
      id: idString(r.id),
      spiderId: idString(r.spider_id),
      projectId: idString(r.project_id),
      names: { project_name: r.project_name, spider_name: r.spider_name },
    }));
    const spiderIds = [...new Set(candidates.map((c) => c.spiderId))].sort(byIdNumber);
    const spiders = await tx.query(
      `SELECT id, settings_json, concurrency FROM spiders WHERE id IN (${inList(spiderIds.length)}) ORDER BY id ${tx.kind === 'postgres' ? 'FOR NO KEY UPDATE' : ''}`,
      spiderIds,
    );
    const active = await tx.query(
      `SELECT spider_id, COUNT(*) AS n FROM jobs WHERE spider_id IN (${inList(spiderIds.length)}) AND state IN ('RUNNING', 'CANCELLING') GROUP BY spider_id`,
      spiderIds,
    );
    const settings = new Map(spiders.map((s) => [idString(s.id), parseSpiderSettings(String(s.settings_json))]));
    const room = new Map<string, number>();
    for (const s of spiders) room.set(idString(s.id), Math.max(1, toNumber(s.concurrency)));
    for (const a of active) room.set(idString(a.spider_id), (room.get(idString(a.spider_id)) ?? 0) - toNumber(a.n));

    // Deal the jobs out in order, one per claimant in turn.
    const slots = claimants.flatMap((c) => Array.from({ length: Math.max(0, c.free) }, (_, i) => ({ c, i }))).sort((x, y) => x.i - y.i).map((x) => x.c);
    const picks: { job: (typeof candidates)[number]; claimant: BatchClaimant }[] = [];
    for (const job of candidates) {
      if (picks.length >= slots.length) break;
      if ((room.get(job.spiderId) ?? 0) <= 0) {
        result.passedOver = true;
        continue;
      }
      room.set(job.spiderId, room.get(job.spiderId)! - 1);
      picks.push({ job, claimant: slots[picks.length]! });
    }
    if (picks.length === 0) return result;
    const now = nowParam();
    const moved = await tx.query(
      `WITH picked(pick_id, pick_node, pick_session) AS (VALUES ${picks.map(() => '(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))').join(', ')})
       UPDATE jobs SET state = 'RUNNING', node_id = picked.pick_node, session_id = picked.pick_session, started_at = ?, updated_at = ?
       FROM picked WHERE jobs.id = picked.pick_id AND jobs.state = 'PENDING' RETURNING *`,
      [...picks.flatMap((p) => [p.job.id, p.claimant.nodeId, p.claimant.sessionId]), now, now],
    );
    await touchProjects(tx, [...new Set(picks.map((p) => p.job.projectId))]);
    const movedById = new Map(moved.map((r) => [idString(r.id), r]));
    for (const { job, claimant } of picks) {
      const row = movedById.get(job.id);
      if (!row) continue;
      const extraRequirements = settings.get(job.spiderId)?.extraRequirements ?? [];
      jobs.get(claimant.sessionId)!.push({ ...jobRow({ ...row, ...job.names }), extraRequirements });
    }
    return result;
  });
}

/** Moves projects to the back of the round-robin, all in one statement. */
async function touchProjects(tx: Queryable, projectIds: string[]): Promise<void> {
  await tx.query(`UPDATE projects SET dispatch_seq = (SELECT COALESCE(MAX(dispatch_seq), 0) + 1 FROM projects) WHERE id IN (${inList(projectIds.length)})`, projectIds);
}
