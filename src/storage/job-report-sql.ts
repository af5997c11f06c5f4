/**
 * The SQL that applies a batch of agent reports (domain/jobs/job-reports.ts)
 * in a constant number of statements: lock the jobs, then insert their new
 * log and item chunks and write the jobs back.
 */
import type { Queryable } from './database.js';
import type { JobState } from '../domain/jobs/job-state.js';
import type { ChunkKind } from './jobs-repo.js';
import { boolParam, idString, nowParam, optionalId, toNumber } from './sql-dialect.js';

const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** What applying reports needs of a job, and changes. */
export interface ReportedJob {
  id: string;
  key: string;
  nodeId: string | undefined;
  state: JobState;
  spiderId: string;
  pid: number | undefined;
  logLineCount: number;
  itemCount: number;
  /** Set when a report ends the job. */
  end?: { state: JobState; exitCode: number; warning: boolean; closeReason: string; statsJson: string; endTime: string };
}

/**
 * The jobs with these keys, locked until the transaction ends (PostgreSQL;
 * SQLite transactions are serial), in id order so that two servers' batches
 * never deadlock on each other.
 */
export async function lockJobsByKey(q: Queryable, keys: readonly string[]): Promise<ReportedJob[]> {
  if (keys.length === 0) return [];
  const rows = await q.query(
    `SELECT id, job_key, node_id, state, spider_id, pid, log_line_count, item_count FROM jobs
     WHERE job_key IN (${inList(keys.length)}) ORDER BY id ${q.kind === 'postgres' ? 'FOR UPDATE' : ''}`,
    keys,
  );
  return rows.map((r) => ({
    id: idString(r.id),
    key: String(r.job_key),
    nodeId: optionalId(r.node_id),
    state: String(r.state) as JobState,
    spiderId: idString(r.spider_id),
    pid: r.pid == null ? undefined : toNumber(r.pid),
    logLineCount: toNumber(r.log_line_count),
    itemCount: toNumber(r.item_count),
  }));
}

export interface NewChunk {
  jobId: string;
  kind: ChunkKind;
  firstIndex: number;
  values: readonly string[];
}

const CHUNK_ROWS_PER_STATEMENT = 1000;
const JOB_ROWS_PER_STATEMENT = 500;

/**
 * Writes a batch's new chunks, and writes back what reports change on
 * active jobs (pid, counts, and for jobs that ended their end state and
 * fields): on PostgreSQL one statement for both, however many jobs (up to
 * the limits above); on SQLite one each. The rows must have been read with
 * lockJobsByKey in this transaction; a job that is no longer active is left
 * alone.
 */
export async function writeReports(q: Queryable, jobs: readonly ReportedJob[], chunks: readonly NewChunk[]): Promise<void> {
  if (q.kind === 'postgres' && chunks.length > 0 && chunks.length <= CHUNK_ROWS_PER_STATEMENT && jobs.length > 0 && jobs.length <= JOB_ROWS_PER_STATEMENT) {
    const insert = chunkInsert(chunks);
    const update = jobUpdate(q, jobs);
    await q.query(`WITH added AS (${insert.sql}), ${update.sql}`, [...insert.params, ...update.params]);
    return;
  }
  for (let i = 0; i < chunks.length; i += CHUNK_ROWS_PER_STATEMENT) {
    const insert = chunkInsert(chunks.slice(i, i + CHUNK_ROWS_PER_STATEMENT));
    await q.query(insert.sql, insert.params);
  }
  for (let i = 0; i < jobs.length; i += JOB_ROWS_PER_STATEMENT) {
    const update = jobUpdate(q, jobs.slice(i, i + JOB_ROWS_PER_STATEMENT));
    await q.query(`WITH ${update.sql}`, update.params);
  }
}

function chunkInsert(chunks: readonly NewChunk[]): { sql: string; params: unknown[] } {
  return {
    sql: `INSERT INTO job_chunks (job_id, kind, first_index, count, data) VALUES ${chunks.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    params: chunks.flatMap((c) => [c.jobId, c.kind, c.firstIndex, c.values.length, JSON.stringify(c.values)]),
  };
}

/** `w(...) AS (VALUES ...) UPDATE jobs ...`, to follow a WITH. End fields change only for jobs that ended. */
function jobUpdate(q: Queryable, jobs: readonly ReportedJob[]): { sql: string; params: unknown[] } {
  const ts = q.kind === 'postgres' ? 'TIMESTAMPTZ' : 'TEXT';
  const tuple = `(CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS INTEGER),
    CAST(? AS BOOLEAN), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS ${ts}))`;
  const ended = (column: string, value: string) => `${column} = CASE WHEN w.w_state IS NULL THEN jobs.${column} ELSE ${value} END`;
  return {
    sql: `w(w_id, w_pid, w_log, w_items, w_state, w_exit, w_warning, w_reason, w_stats, w_ended) AS (VALUES ${jobs.map(() => tuple).join(', ')})
       UPDATE jobs SET pid = w.w_pid, log_line_count = w.w_log, item_count = w.w_items, ${ended('state', 'w.w_state')},
         ${ended('exit_code', 'w.w_exit')}, ${ended('warning', 'w.w_warning')}, ${ended('close_reason', 'w.w_reason')},
         ${ended('stats_json', 'w.w_stats')}, ${ended('ended_at', 'w.w_ended')}, updated_at = ?
       FROM w WHERE jobs.id = w.w_id AND jobs.state IN ('RUNNING', 'CANCELLING')`,
    params: [
      ...jobs.flatMap((j) => [
        j.id, j.pid ?? null, j.logLineCount, j.itemCount, j.end?.state ?? null, j.end?.exitCode ?? null,
        j.end ? boolParam(q.kind, j.end.warning) : null, j.end?.closeReason ?? null, j.end?.statsJson ?? null, j.end?.endTime ?? null,
      ]),
      nowParam(),
    ],
  };
}

/** New chunks alone (tests, and writeReports beyond its one-statement limits). */
export async function insertChunks(q: Queryable, chunks: readonly NewChunk[]): Promise<void> {
  await writeReports(q, [], chunks);
}
