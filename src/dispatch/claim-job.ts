/**
 * Claims the next runnable job for an agent — the statement that decides
 * who runs what. Invariants:
 * - a job is claimed at most once: the UPDATE only moves it out of PENDING,
 *   and on PostgreSQL candidates are row-locked (FOR UPDATE SKIP LOCKED) so
 *   concurrent claimers take different jobs instead of waiting;
 * - a spider never runs more than its `concurrency` jobs: the spider row is
 *   locked (FOR NO KEY UPDATE: claimers exclude each other, while inserts of
 *   new jobs, which only take a key-share lock for the foreign key, go on) before its active jobs are counted, so two claimers
 *   of the same spider serialise (SQLite transactions are serial anyway);
 * - tags follow the documented table: an agent with tags runs only jobs
 *   whose tag it has; an agent without tags runs only untagged jobs.
 * Order: priority (higher first), then the project dispatched to least
 * recently (round-robin between projects), then age.
 */
import type { Db, Queryable } from '../storage/database.js';
import { jobRow, JOB_SELECT, touchProjectDispatch, type JobRow } from '../storage/jobs-repo.js';
import { idString, nowParam, toNumber } from '../storage/sql-dialect.js';
import { parseSpiderSettings } from '../domain/projects/spider-settings.js';

export interface Claimant {
  nodeId: string;
  sessionId: string;
  tags: readonly string[];
}

const CANDIDATES = 8;

function candidatesSql(q: Queryable, tagCount: number): string {
  const tagClause = tagCount === 0 ? `j.tag = ''` : `j.tag IN (${Array.from({ length: tagCount }, () => '?').join(', ')})`;
  const lock = q.kind === 'postgres' ? 'FOR UPDATE OF j SKIP LOCKED' : '';
  return `SELECT j.id, j.spider_id FROM jobs j JOIN projects p ON p.id = j.project_id
    WHERE j.state = 'PENDING' AND ${tagClause}
    ORDER BY j.priority DESC, p.dispatch_seq ASC NULLS FIRST, j.created_at ASC, j.id ASC
    LIMIT ${CANDIDATES} ${lock}`;
}

export async function claimNextJob(db: Db, who: Claimant): Promise<JobRow | undefined> {
  return db.transaction(async (tx) => {
    const candidates = await tx.query(candidatesSql(tx, who.tags.length), [...who.tags]);
    const spidersFull = new Set<string>();
    for (const c of candidates) {
      const jobId = idString(c.id);
      const spiderId = idString(c.spider_id);
      if (spidersFull.has(spiderId)) continue;
      // Lock the spider row first; count in a separate statement, whose
      // snapshot (READ COMMITTED) is taken after the lock is held. A count
      // inside the locking statement would use the snapshot from before the
      // wait and miss a job another claimer just committed.
      const spider = await tx.query(
        `SELECT settings_json FROM spiders WHERE id = ? ${tx.kind === 'postgres' ? 'FOR NO KEY UPDATE' : ''}`,
        [spiderId],
      );
      const concurrency = Math.max(1, parseSpiderSettings(String(spider[0]?.settings_json ?? '{}')).concurrency);
      const active = await tx.query(
        `SELECT COUNT(*) AS n FROM jobs WHERE spider_id = ? AND state IN ('RUNNING', 'CANCELLING')`,
        [spiderId],
      );
      if (toNumber(active[0]?.n) >= concurrency) {
        spidersFull.add(spiderId);
        continue;
      }
      const now = nowParam();
      const moved = await tx.query(
        `UPDATE jobs SET state = 'RUNNING', node_id = ?, session_id = ?, started_at = ?, updated_at = ?
         WHERE id = ? AND state = 'PENDING' RETURNING id, project_id`,
        [who.nodeId, who.sessionId, now, now, jobId],
      );
      if (moved.length === 0) continue;
      await touchProjectDispatch(tx, idString(moved[0]!.project_id));
      return (await tx.query(`${JOB_SELECT} WHERE j.id = ?`, [jobId])).map(jobRow)[0];
    }
    return undefined;
  });
}
