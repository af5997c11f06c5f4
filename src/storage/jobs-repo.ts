/** SQL for jobs and their log/item chunks. State changes check the current state in the WHERE clause. */
import type { Queryable, Row } from './database.js';
import { boolParam, idString, nowParam, optionalId, toBool, toIso, toNumber } from './sql-dialect.js';
import type { JobState } from '../domain/jobs/job-state.js';

export interface JobRow {
  id: string;
  key: string;
  projectId: string;
  project: string;
  spiderId: string;
  spider: string;
  versionName: string;
  eggSha256: string;
  eggSize: number;
  settingsModule: string;
  state: JobState;
  priority: number;
  tag: string;
  args: Record<string, string>;
  settings: Record<string, string>;
  timeoutSeconds: number;
  attempt: number;
  retryOf: string | undefined;
  triggerId: string | undefined;
  nodeId: string | undefined;
  sessionId: string | undefined;
  pid: number | undefined;
  exitCode: number | undefined;
  warning: boolean;
  itemCount: number;
  logLineCount: number;
  closeReason: string;
  statsJson: string;
  cancelSignal: string | undefined;
  createTime: string;
  startTime: string | undefined;
  endTime: string | undefined;
}

export const JOB_SELECT = `SELECT j.*, p.name AS project_name, s.name AS spider_name
  FROM jobs j JOIN projects p ON p.id = j.project_id JOIN spiders s ON s.id = j.spider_id`;

export function jobRow(r: Row): JobRow {
  const num = (v: unknown) => (v === null || v === undefined ? undefined : toNumber(v));
  return {
    id: idString(r.id),
    key: String(r.job_key),
    projectId: idString(r.project_id),
    project: String(r.project_name),
    spiderId: idString(r.spider_id),
    spider: String(r.spider_name),
    versionName: String(r.version_name),
    eggSha256: String(r.egg_sha256),
    eggSize: toNumber(r.egg_size),
    settingsModule: String(r.settings_module),
    state: String(r.state) as JobState,
    priority: toNumber(r.priority),
    tag: String(r.tag),
    args: JSON.parse(String(r.args_json)) as Record<string, string>,
    settings: JSON.parse(String(r.settings_json)) as Record<string, string>,
    timeoutSeconds: toNumber(r.timeout_seconds),
    attempt: toNumber(r.attempt),
    retryOf: optionalId(r.retry_of),
    triggerId: optionalId(r.trigger_id),
    nodeId: optionalId(r.node_id),
    sessionId: optionalId(r.session_id),
    pid: num(r.pid),
    exitCode: num(r.exit_code),
    warning: toBool(r.warning),
    itemCount: toNumber(r.item_count),
    logLineCount: toNumber(r.log_line_count),
    closeReason: String(r.close_reason),
    statsJson: String(r.stats_json),
    cancelSignal: r.cancel_signal == null ? undefined : String(r.cancel_signal),
    createTime: toIso(r.created_at)!,
    startTime: toIso(r.started_at),
    endTime: toIso(r.ended_at),
  };
}

export type NewJob = Pick<
  JobRow,
  'id' | 'key' | 'projectId' | 'spiderId' | 'versionName' | 'eggSha256' | 'eggSize' | 'settingsModule' | 'priority' | 'tag' | 'args' | 'settings' | 'timeoutSeconds' | 'attempt'
> & { retryOf?: string; triggerId?: string; /** Default: the time of the insert. */ createTime?: string };

const INSERT_COLUMNS = `(id, job_key, project_id, spider_id, version_name, egg_sha256, egg_size, settings_module, state,
  priority, tag, args_json, settings_json, timeout_seconds, attempt, retry_of, trigger_id, created_at, updated_at)`;

/**
 * Inserts PENDING jobs with one statement; returns the ids inserted (a job
 * whose key is taken, even by another job of the same call, is left out).
 */
export async function insertJobs(q: Queryable, jobs: readonly NewJob[]): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const now = nowParam();
  const rows = jobs.map(() => `(?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).join(', ');
  const params = jobs.flatMap((j) => [
    j.id, j.key, j.projectId, j.spiderId, j.versionName, j.eggSha256, j.eggSize, j.settingsModule, j.priority, j.tag,
    JSON.stringify(j.args), JSON.stringify(j.settings), j.timeoutSeconds, j.attempt, j.retryOf ?? null, j.triggerId ?? null, j.createTime ?? now, now,
  ]);
  const inserted = await q.query(`INSERT INTO jobs ${INSERT_COLUMNS} VALUES ${rows} ON CONFLICT (job_key) DO NOTHING RETURNING id`, params);
  return new Set(inserted.map((r) => idString(r.id)));
}

/** Inserts a PENDING job; false when its key is taken. */
export async function insertJob(q: Queryable, j: NewJob): Promise<boolean> {
  return (await insertJobs(q, [j])).has(j.id);
}

/** The row of a job just inserted by `insertJobs`, without reading it back. */
export function newJobRow(j: NewJob & { project: string; spider: string; createTime: string }): JobRow {
  return {
    id: j.id, key: j.key, projectId: j.projectId, project: j.project, spiderId: j.spiderId, spider: j.spider,
    versionName: j.versionName, eggSha256: j.eggSha256, eggSize: j.eggSize, settingsModule: j.settingsModule,
    state: 'PENDING', priority: j.priority, tag: j.tag, args: j.args, settings: j.settings, timeoutSeconds: j.timeoutSeconds,
    attempt: j.attempt, retryOf: j.retryOf, triggerId: j.triggerId, nodeId: undefined, sessionId: undefined, pid: undefined,
    exitCode: undefined, warning: false, itemCount: 0, logLineCount: 0, closeReason: '', statsJson: '', cancelSignal: undefined,
    createTime: j.createTime, startTime: undefined, endTime: undefined,
  };
}

export async function findJobByKey(q: Queryable, key: string): Promise<JobRow | undefined> {
  return (await q.query(`${JOB_SELECT} WHERE j.job_key = ?`, [key])).map(jobRow)[0];
}

export async function findJobById(q: Queryable, id: string): Promise<JobRow | undefined> {
  return (await q.query(`${JOB_SELECT} WHERE j.id = ?`, [id])).map(jobRow)[0];
}

export interface JobFilter {
  projectId?: string;
  spiderId?: string;
  /** Project ids the caller may see; undefined = all. */
  visibleProjectIds?: string[];
  states?: JobState[];
  nodeId?: string;
}

/** The WHERE clause of a filter over `jobs j` (empty string for none). */
export function jobFilterSql(f: JobFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.projectId) parts.push('j.project_id = ?'), params.push(f.projectId);
  if (f.spiderId) parts.push('j.spider_id = ?'), params.push(f.spiderId);
  if (f.nodeId) parts.push('j.node_id = ?'), params.push(f.nodeId);
  if (f.visibleProjectIds) {
    if (f.visibleProjectIds.length === 0) parts.push('1 = 0');
    else parts.push(`j.project_id IN (${f.visibleProjectIds.map(() => '?').join(', ')})`), params.push(...f.visibleProjectIds);
  }
  if (f.states?.length) parts.push(`j.state IN (${f.states.map(() => '?').join(', ')})`), params.push(...f.states);
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** Newest first, keyset-paginated by (created_at, id). */
export async function listJobs(q: Queryable, f: JobFilter, before: { createdAt: string; id: string } | undefined, limit: number): Promise<JobRow[]> {
  const w = jobFilterSql(f);
  let sql = w.sql;
  const params = [...w.params];
  if (before) {
    sql += `${sql ? ' AND' : 'WHERE'} (j.created_at < ? OR (j.created_at = ? AND j.id < ?))`;
    params.push(before.createdAt, before.createdAt, before.id);
  }
  return (await q.query(`${JOB_SELECT} ${sql} ORDER BY j.created_at DESC, j.id DESC LIMIT ?`, [...params, limit])).map(jobRow);
}

export async function countJobsByState(q: Queryable, f: JobFilter): Promise<Map<JobState, number>> {
  const w = jobFilterSql(f);
  const rows = await q.query(`SELECT j.state, COUNT(*) AS n FROM jobs j ${w.sql} GROUP BY j.state`, w.params);
  return new Map(rows.map((r) => [String(r.state) as JobState, toNumber(r.n)]));
}

/**
 * Moves a job from one of `from` to `to`, setting `fields`; returns the row
 * or undefined when the job was not in `from` (someone else moved it first).
 */
export async function transitionJob(
  q: Queryable,
  id: string,
  from: readonly JobState[],
  to: JobState,
  fields: Partial<Record<'node_id' | 'session_id' | 'pid' | 'exit_code' | 'warning' | 'item_count' | 'log_line_count' | 'close_reason' | 'stats_json' | 'cancel_signal' | 'started_at' | 'ended_at', unknown>> = {},
): Promise<boolean> {
  const sets = ['state = ?', 'updated_at = ?'];
  const params: unknown[] = [to, nowParam()];
  for (const [k, v] of Object.entries(fields)) {
    sets.push(`${k} = ?`);
    params.push(typeof v === 'boolean' ? boolParam(q.kind, v) : v);
  }
  const rows = await q.query(
    `UPDATE jobs SET ${sets.join(', ')} WHERE id = ? AND state IN (${from.map(() => '?').join(', ')}) RETURNING id`,
    [...params, id, ...from],
  );
  return rows.length > 0;
}

/** Jobs a node holds (RUNNING or CANCELLING). */
export async function activeJobsOfNode(q: Queryable, nodeId: string): Promise<JobRow[]> {
  return (await q.query(`${JOB_SELECT} WHERE j.node_id = ? AND j.state IN ('RUNNING', 'CANCELLING')`, [nodeId])).map(jobRow);
}

export type ChunkKind = 'log' | 'items';

/** Chunks of a job from index `from` on, in order (the first may start before `from`). */
export async function readChunks(q: Queryable, jobId: string, kind: ChunkKind, from: number, limitChunks: number): Promise<{ firstIndex: number; values: string[] }[]> {
  const rows = await q.query(
    `SELECT first_index, count, data FROM job_chunks WHERE job_id = ? AND kind = ? AND first_index + count > ?
     ORDER BY first_index LIMIT ?`,
    [jobId, kind, from, limitChunks],
  );
  return rows.map((r) => ({ firstIndex: toNumber(r.first_index), values: JSON.parse(String(r.data)) as string[] }));
}

/**
 * Deletes up to `batch` of a spider's finished jobs beyond the newest `keep`
 * (their log and item chunks go with them), newest first; call again while
 * it returns `batch`. Small batches keep one statement short: a spider with
 * a long history (jobs_to_keep lowered, an old database) never holds the
 * database for seconds. A job whose webhook delivery is still open is kept
 * until it is finished: its items are what the delivery sends.
 */
export async function pruneFinishedJobs(q: Queryable, spiderId: string, keep: number, batch = 500): Promise<number> {
  const rows = await q.query(
    `DELETE FROM jobs WHERE id IN (
       SELECT id FROM jobs WHERE spider_id = ? AND state IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST')
       ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?)
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.job_id = jobs.id AND d.state IN ('PENDING', 'DELIVERING'))
     RETURNING id`,
    [spiderId, batch, keep],
  );
  return rows.length;
}
