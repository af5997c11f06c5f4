/**
 * The dashboard's numbers in three queries: counts by state (one pass over
 * the jobs the filter keeps), jobs and items per started hour over a window,
 * and each spider's newest job (one index probe per spider).
 */
import type { Queryable } from './database.js';
import { JOB_SELECT, jobFilterSql, jobRow, type JobFilter, type JobRow } from './jobs-repo.js';
import { boolParam, idString, optionalId, toIso, toNumber } from './sql-dialect.js';

export interface JobCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  lost: number;
}

/** Pending and running now; the others ended at or after `since` (ISO). */
export async function countJobs(q: Queryable, f: JobFilter, since: string): Promise<JobCounts> {
  const w = jobFilterSql(f);
  const ended = (state: string) => `SUM(CASE WHEN j.state = '${state}' AND j.ended_at >= ? THEN 1 ELSE 0 END)`;
  const rows = await q.query(
    `SELECT SUM(CASE WHEN j.state = 'PENDING' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN j.state IN ('RUNNING', 'CANCELLING') THEN 1 ELSE 0 END) AS running,
       ${ended('SUCCEEDED')} AS succeeded, ${ended('FAILED')} AS failed, ${ended('CANCELLED')} AS cancelled, ${ended('LOST')} AS lost
     FROM jobs j ${w.sql}`,
    [since, since, since, since, ...w.params],
  );
  const r = rows[0] ?? {};
  return {
    pending: toNumber(r.pending),
    running: toNumber(r.running),
    succeeded: toNumber(r.succeeded),
    failed: toNumber(r.failed),
    cancelled: toNumber(r.cancelled),
    lost: toNumber(r.lost),
  };
}

/** Jobs started at or after `since` grouped by UTC hour ('YYYY-MM-DDTHH'), with their items. */
export async function startsPerHour(q: Queryable, f: JobFilter, since: string): Promise<Map<string, { jobs: number; items: number }>> {
  const w = jobFilterSql(f);
  const hour = q.kind === 'postgres' ? `to_char(j.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')` : `substr(j.started_at, 1, 13)`;
  const rows = await q.query(
    `SELECT ${hour} AS hour, COUNT(*) AS n, SUM(j.item_count) AS items FROM jobs j
     ${w.sql ? `${w.sql} AND` : 'WHERE'} j.started_at >= ? GROUP BY ${hour}`,
    [...w.params, since],
  );
  return new Map(rows.map((r) => [String(r.hour), { jobs: toNumber(r.n), items: toNumber(r.items) }]));
}

export interface SpiderLastJob {
  project: string;
  spider: string;
  lastJob: JobRow | undefined;
  /** The earliest next fire time of the spider's enabled triggers. */
  nextFireTime: string | undefined;
}

/**
 * The spiders of the projects the filter keeps (those still in their
 * project's latest version), by project and name, with their newest job.
 */
export async function spidersWithLastJob(q: Queryable, f: Pick<JobFilter, 'projectId' | 'spiderId' | 'visibleProjectIds'>, limit: number): Promise<SpiderLastJob[]> {
  const parts = ['s.missing = ?'];
  const params: unknown[] = [boolParam(q.kind, false)];
  if (f.projectId) parts.push('s.project_id = ?'), params.push(f.projectId);
  if (f.spiderId) parts.push('s.id = ?'), params.push(f.spiderId);
  if (f.visibleProjectIds) {
    if (f.visibleProjectIds.length === 0) return [];
    parts.push(`s.project_id IN (${f.visibleProjectIds.map(() => '?').join(', ')})`), params.push(...f.visibleProjectIds);
  }
  const spiders = await q.query(
    `SELECT p.name AS project_name, s.name AS spider_name,
       (SELECT j.id FROM jobs j WHERE j.spider_id = s.id ORDER BY j.created_at DESC, j.id DESC LIMIT 1) AS last_id,
       (SELECT MIN(t.next_fire_at) FROM triggers t WHERE t.spider_id = s.id AND t.enabled = ?) AS next_fire_at
     FROM spiders s JOIN projects p ON p.id = s.project_id
     WHERE ${parts.join(' AND ')} ORDER BY p.name, s.name LIMIT ?`,
    [boolParam(q.kind, true), ...params, limit],
  );
  const lastIds = spiders.map((r) => optionalId(r.last_id)).filter((id): id is string => id !== undefined);
  const jobs = new Map<string, JobRow>();
  if (lastIds.length) {
    for (const r of await q.query(`${JOB_SELECT} WHERE j.id IN (${lastIds.map(() => '?').join(', ')})`, lastIds)) {
      jobs.set(idString(r.id), jobRow(r));
    }
  }
  return spiders.map((r) => ({
    project: String(r.project_name),
    spider: String(r.spider_name),
    lastJob: r.last_id == null ? undefined : jobs.get(idString(r.last_id)),
    nextFireTime: toIso(r.next_fire_at),
  }));
}

export async function countOnlineNodes(q: Queryable): Promise<number> {
  const rows = await q.query(`SELECT COUNT(*) AS n FROM nodes WHERE is_online = ?`, [boolParam(q.kind, true)]);
  return toNumber(rows[0]?.n);
}
