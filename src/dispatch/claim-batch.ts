/**
 * The claim: the statements that decide who runs what. Claims up to one job
 * per free slot for a group of agents with the same tags, in one transaction
 * of two statements (three on SQLite) however many jobs it claims. Invariants:
 * - each job is claimed once: candidates are locked FOR UPDATE SKIP LOCKED
 *   (PostgreSQL; SQLite transactions are serial) and moved only out of
 *   PENDING, so concurrent claimers take different jobs instead of waiting;
 * - a spider never runs more than its `concurrency` jobs: its row is locked
 *   with the candidates (SKIP LOCKED: a spider another claimer is claiming
 *   is left to it), and the UPDATE, whose snapshot is taken after that lock,
 *   moves a job only while the spider's active jobs leave room for it;
 * - tags follow the documented table: agents with tags run only jobs whose
 *   tag they have; agents without tags run only untagged jobs;
 * - order: priority, then the project served least recently, then age. A
 *   batch is filled from that order and every project it served moves to the
 *   back, so projects alternate batch by batch and no backlog starves another.
 */
import type { Db } from '../storage/database.js';
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

/**
 * The candidates in dispatch order, at most `total` (the first parameters
 * after the tags, twice). Read spider by spider through the index of
 * pending jobs (jobs_pending_spider), each spider's best few only, so a
 * claim costs the same with ten pending jobs or a million. Spiders already
 * at their concurrency are left out, so one spider's backlog cannot hide
 * other spiders' jobs. On PostgreSQL the jobs and the rows of their spiders
 * are locked without waiting: what another claimer holds is left to it, so
 * claimers never wait for or deadlock each other. (SQLite transactions are
 * serial; it has no LATERAL, and a correlated IN does the same there.)
 */
function candidatesSql(kind: Db['kind'], tagCount: number, lock = true): string {
  const tagClause = tagCount === 0 ? `j.tag = ''` : `j.tag IN (${inList(tagCount)})`;
  const busy = `WITH busy AS (SELECT spider_id, COUNT(*) AS n FROM jobs WHERE state IN ('RUNNING', 'CANCELLING') GROUP BY spider_id)`;
  const columns = `j.id, j.spider_id, j.project_id, p.name AS project_name, s.name AS spider_name, s.settings_json AS spider_settings,
    s.concurrency, COALESCE(b.n, 0) AS busy`;
  const order = `ORDER BY j.priority DESC, p.dispatch_seq ASC NULLS FIRST, j.created_at ASC, j.id ASC`;
  if (kind === 'postgres') {
    return `${busy}
      SELECT ${columns}
      FROM spiders s JOIN projects p ON p.id = s.project_id LEFT JOIN busy b ON b.spider_id = s.id
      CROSS JOIN LATERAL (
        SELECT j.id, j.spider_id, j.project_id, j.priority, j.created_at FROM jobs j
        WHERE j.spider_id = s.id AND j.state = 'PENDING' AND ${tagClause}
        ORDER BY j.priority DESC, j.created_at ASC, j.id ASC
        LIMIT LEAST(?, GREATEST(0, s.concurrency - COALESCE(b.n, 0))) ${lock ? 'FOR UPDATE SKIP LOCKED' : ''}) j
      WHERE COALESCE(b.n, 0) < s.concurrency
      ${order} LIMIT ? ${lock ? 'FOR NO KEY UPDATE OF s SKIP LOCKED' : ''}`;
  }
  return `${busy}
    SELECT ${columns}
    FROM spiders s JOIN projects p ON p.id = s.project_id LEFT JOIN busy b ON b.spider_id = s.id
    JOIN jobs j ON j.id IN (
      SELECT j.id FROM jobs j WHERE j.spider_id = s.id AND j.state = 'PENDING' AND ${tagClause}
      ORDER BY j.priority DESC, j.created_at ASC, j.id ASC LIMIT ?)
    WHERE COALESCE(b.n, 0) < s.concurrency
    ${order} LIMIT ?`;
}

/** Up to `max` free slots in dealing order: every claimant's first free slot, then every second one, and so on. */
function dealingOrder(claimants: readonly BatchClaimant[], max: number): BatchClaimant[] {
  const order: BatchClaimant[] = [];
  for (let round = 0; order.length < max; round++) {
    let any = false;
    for (const c of claimants) {
      if (c.free <= round) continue;
      any = true;
      order.push(c);
      if (order.length === max) break;
    }
    if (!any) break;
  }
  return order;
}

/** Whether a claim for agents with these tags would find a job now (a read without locks or a transaction). */
export async function anyClaimable(db: Db, tags: readonly string[]): Promise<boolean> {
  return (await db.query(candidatesSql(db.kind, tags.length, false), [...tags, 1, 1])).length > 0;
}

export async function claimBatch(db: Db, tags: readonly string[], claimants: readonly BatchClaimant[]): Promise<ClaimResult> {
  const total = claimants.reduce((n, c) => n + Math.max(0, c.free), 0);
  const jobs = new Map<string, ClaimedJob[]>(claimants.map((c) => [c.sessionId, []]));
  const result = { jobs, passedOver: false };
  if (total === 0) return result;
  return db.transaction(async (tx) => {
    const locked = await tx.query(candidatesSql(tx.kind, tags.length), [...tags, total, total]);
    if (locked.length === 0) return result;

    // Deal the jobs out in order, one per claimant in turn, within each
    // spider's room as the snapshot saw it.
    const slots = dealingOrder(claimants, locked.length);
    const dealt = new Map<string, number>();
    const picks: { row: (typeof locked)[number]; claimant: BatchClaimant; maxOthers: number }[] = [];
    for (const row of locked) {
      if (picks.length >= slots.length) break;
      const spiderId = idString(row.spider_id);
      const concurrency = Math.max(1, toNumber(row.concurrency));
      const rank = (dealt.get(spiderId) ?? 0) + 1;
      if (toNumber(row.busy) + rank > concurrency) {
        result.passedOver = true;
        continue;
      }
      dealt.set(spiderId, rank);
      // The pick fits if at most this many other jobs of its spider are active.
      picks.push({ row, claimant: slots[picks.length]!, maxOthers: concurrency - rank });
    }
    if (picks.length === 0) return result;

    // The decisive count: this statement's snapshot is taken after the
    // spiders were locked above, so it sees every claim of them committed
    // before, and none can commit until this transaction does.
    const now = nowParam();
    const update = `UPDATE jobs SET state = 'RUNNING', node_id = picked.pick_node, session_id = picked.pick_session, started_at = ?, updated_at = ?
       FROM picked LEFT JOIN active ON active.active_spider = picked.pick_spider
       WHERE jobs.id = picked.pick_id AND jobs.state = 'PENDING' AND COALESCE(active.active_n, 0) <= picked.pick_max_others`;
    const served = `UPDATE projects SET dispatch_seq = (SELECT COALESCE(MAX(dispatch_seq), 0) + 1 FROM projects)`;
    const moved = await tx.query(
      `WITH picked(pick_id, pick_node, pick_session, pick_spider, pick_max_others) AS (VALUES ${picks.map(() => '(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER))').join(', ')}),
       active(active_spider, active_n) AS (
         SELECT spider_id, COUNT(*) FROM jobs WHERE state IN ('RUNNING', 'CANCELLING') AND spider_id IN (SELECT pick_spider FROM picked) GROUP BY spider_id)
       ${
         // PostgreSQL moves the projects served to the back in the same
         // statement; SQLite (no writes in WITH) in a second one below.
         tx.kind === 'postgres'
           ? `, moved AS (${update} RETURNING jobs.*), served AS (${served} WHERE id IN (SELECT project_id FROM moved)) SELECT * FROM moved`
           : `${update} RETURNING *`
       }`,
      [...picks.flatMap((p) => [idString(p.row.id), p.claimant.nodeId, p.claimant.sessionId, idString(p.row.spider_id), p.maxOthers]), now, now],
    );
    if (moved.length === 0) return result;
    const movedById = new Map(moved.map((r) => [idString(r.id), r]));
    if (tx.kind === 'sqlite') {
      const projectIds = [...new Set(moved.map((r) => idString(r.project_id)))];
      await tx.query(`${served} WHERE id IN (${inList(projectIds.length)})`, projectIds);
    }
    for (const { row, claimant } of picks) {
      const job = movedById.get(idString(row.id));
      if (!job) continue;
      const { extraRequirements } = parseSpiderSettings(String(row.spider_settings));
      jobs.get(claimant.sessionId)!.push({ ...jobRow({ ...job, project_name: row.project_name, spider_name: row.spider_name }), extraRequirements });
    }
    return result;
  });
}
