/** SQL for cron triggers and their fire records; the fire-time claim is `claimFire`. */
import type { Queryable, Row } from './database.js';
import { boolParam, idString, nowParam, optionalId, toBool, toIso } from './sql-dialect.js';

export type FireOutcome = 'QUEUED' | 'MISSED' | 'SPIDER_DISABLED' | 'SPIDER_MISSING' | 'NO_VERSION';

export interface TriggerFields {
  cron: string;
  timeZone: string;
  enabled: boolean;
  args: Record<string, string>;
  settings: Record<string, string>;
  dedupeKey: string;
  nextFireTime: string | undefined;
}

export interface TriggerRow extends TriggerFields {
  id: string;
  spiderId: string;
  project: string;
  spider: string;
  lastFireTime: string | undefined;
  lastOutcome: FireOutcome | undefined;
  lastReason: string;
  /** The key (name id) of the last job queued, if it still exists. */
  lastJobKey: string | undefined;
  createTime: string;
  updateTime: string;
}

const TRIGGER_SELECT = `SELECT t.*, s.name AS spider_name, p.name AS project_name, j.job_key AS last_job_key
  FROM triggers t JOIN spiders s ON s.id = t.spider_id JOIN projects p ON p.id = s.project_id
  LEFT JOIN jobs j ON j.id = t.last_job_id`;

function triggerRow(r: Row): TriggerRow {
  return {
    id: idString(r.id),
    spiderId: idString(r.spider_id),
    project: String(r.project_name),
    spider: String(r.spider_name),
    cron: String(r.cron),
    timeZone: String(r.time_zone),
    enabled: toBool(r.enabled),
    args: JSON.parse(String(r.args_json)) as Record<string, string>,
    settings: JSON.parse(String(r.settings_json)) as Record<string, string>,
    dedupeKey: String(r.dedupe_key),
    nextFireTime: toIso(r.next_fire_at),
    lastFireTime: toIso(r.last_fire_at),
    lastOutcome: r.last_outcome == null ? undefined : (String(r.last_outcome) as FireOutcome),
    lastReason: String(r.last_reason),
    lastJobKey: r.last_job_key == null ? undefined : String(r.last_job_key),
    createTime: toIso(r.created_at)!,
    updateTime: toIso(r.updated_at)!,
  };
}

/** Inserts a trigger unless the spider has one with the same dedupe key; returns whether it inserted. */
export async function insertTrigger(q: Queryable, t: TriggerFields & { id: string; spiderId: string }): Promise<boolean> {
  const now = nowParam();
  const rows = await q.query(
    `INSERT INTO triggers (id, spider_id, cron, time_zone, enabled, args_json, settings_json, dedupe_key, next_fire_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (spider_id, dedupe_key) DO NOTHING RETURNING id`,
    [t.id, t.spiderId, t.cron, t.timeZone, boolParam(q.kind, t.enabled), JSON.stringify(t.args), JSON.stringify(t.settings), t.dedupeKey, t.nextFireTime ?? null, now, now],
  );
  return rows.length > 0;
}

/** Rewrites a trigger's fields; false when another trigger of the spider has the same dedupe key. */
export async function updateTrigger(q: Queryable, id: string, t: TriggerFields): Promise<boolean> {
  const rows = await q.query(
    `UPDATE triggers SET cron = ?, time_zone = ?, enabled = ?, args_json = ?, settings_json = ?, dedupe_key = ?, next_fire_at = ?, updated_at = ?
     WHERE id = ? AND NOT EXISTS (SELECT 1 FROM triggers o WHERE o.spider_id = triggers.spider_id AND o.dedupe_key = ? AND o.id <> ?)
     RETURNING id`,
    [t.cron, t.timeZone, boolParam(q.kind, t.enabled), JSON.stringify(t.args), JSON.stringify(t.settings), t.dedupeKey, t.nextFireTime ?? null, nowParam(), id, t.dedupeKey, id],
  );
  return rows.length > 0;
}

export async function findTrigger(q: Queryable, spiderId: string, id: string): Promise<TriggerRow | undefined> {
  return (await q.query(`${TRIGGER_SELECT} WHERE t.spider_id = ? AND t.id = ?`, [spiderId, id])).map(triggerRow)[0];
}

export async function findTriggerById(q: Queryable, id: string): Promise<TriggerRow | undefined> {
  return (await q.query(`${TRIGGER_SELECT} WHERE t.id = ?`, [id])).map(triggerRow)[0];
}

export async function findTriggerByDedupeKey(q: Queryable, spiderId: string, dedupeKey: string): Promise<TriggerRow | undefined> {
  return (await q.query(`${TRIGGER_SELECT} WHERE t.spider_id = ? AND t.dedupe_key = ?`, [spiderId, dedupeKey])).map(triggerRow)[0];
}

/** A spider's triggers after id `afterId` (ids ascending, oldest first). */
export async function listTriggers(q: Queryable, spiderId: string, afterId: string | undefined, limit: number): Promise<TriggerRow[]> {
  return afterId === undefined
    ? (await q.query(`${TRIGGER_SELECT} WHERE t.spider_id = ? ORDER BY t.id LIMIT ?`, [spiderId, limit])).map(triggerRow)
    : (await q.query(`${TRIGGER_SELECT} WHERE t.spider_id = ? AND t.id > ? ORDER BY t.id LIMIT ?`, [spiderId, afterId, limit])).map(triggerRow);
}

export async function deleteTrigger(q: Queryable, spiderId: string, id: string): Promise<boolean> {
  return (await q.query(`DELETE FROM triggers WHERE spider_id = ? AND id = ? RETURNING id`, [spiderId, id])).length > 0;
}

/** The earliest fire time any enabled trigger waits for. */
export async function earliestFireTime(q: Queryable): Promise<Date | undefined> {
  const r = (await q.query(`SELECT MIN(next_fire_at) AS at FROM triggers WHERE next_fire_at IS NOT NULL`))[0];
  const iso = toIso(r?.at);
  return iso === undefined ? undefined : new Date(iso);
}

export interface DueTrigger {
  id: string;
  cron: string;
  timeZone: string;
  nextFireTime: string;
}

/** Triggers whose fire time has come, earliest first. */
export async function dueTriggers(q: Queryable, now: Date, limit: number): Promise<DueTrigger[]> {
  const rows = await q.query(
    `SELECT id, cron, time_zone, next_fire_at FROM triggers WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?`,
    [nowParam(now), limit],
  );
  return rows.map((r) => ({ id: idString(r.id), cron: String(r.cron), timeZone: String(r.time_zone), nextFireTime: toIso(r.next_fire_at)! }));
}

/**
 * The fire-time claim: moves a trigger's next_fire_at from `expected` to
 * `next` and records the fire's outcome, only if next_fire_at is still
 * `expected`. Of several servers racing for one fire time exactly one
 * changes the row (PostgreSQL re-checks the WHERE after the winner's commit;
 * SQLite runs one transaction at a time); the others get false. Run it
 * first in the transaction that queues the job, so the job and the moved
 * fire time commit together or not at all.
 */
export async function claimFire(q: Queryable, id: string, expected: string, next: string | undefined): Promise<boolean> {
  const rows = await q.query(`UPDATE triggers SET next_fire_at = ? WHERE id = ? AND next_fire_at = ? RETURNING id`, [next ?? null, id, expected]);
  return rows.length > 0;
}

/**
 * Records what happened at a fire time, once: false when that fire time of
 * the trigger was recorded before (then nothing else may happen for it).
 */
export async function recordFire(
  q: Queryable,
  f: { triggerId: string; fireTime: string; outcome: FireOutcome; reason: string; jobId: string | undefined },
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO trigger_fires (trigger_id, fire_time, outcome, reason, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (trigger_id, fire_time) DO NOTHING RETURNING trigger_id`,
    [f.triggerId, f.fireTime, f.outcome, f.reason, f.jobId ?? null, nowParam()],
  );
  if (rows.length === 0) return false;
  await q.query(`UPDATE triggers SET last_fire_at = ?, last_outcome = ?, last_reason = ?, last_job_id = ? WHERE id = ?`, [
    f.fireTime, f.outcome, f.reason, f.jobId ?? null, f.triggerId,
  ]);
  await pruneFires(q, f.triggerId, new Date(Date.parse(f.fireTime) - FIRE_HISTORY_MS));
  return true;
}

/** Fire records are kept this long, and the newest FIRE_HISTORY_MIN of a trigger always. */
export const FIRE_HISTORY_MS = 30 * 86_400_000;
export const FIRE_HISTORY_MIN = 100;

/**
 * Deletes a trigger's fire records older than `before`, except its newest
 * FIRE_HISTORY_MIN (so a trigger that fires rarely keeps its history). Run
 * with each new record: a per-minute trigger deletes about one row a fire.
 */
export async function pruneFires(q: Queryable, triggerId: string, before: Date): Promise<void> {
  await q.query(
    `DELETE FROM trigger_fires WHERE trigger_id = ? AND fire_time < ?
       AND fire_time < (SELECT fire_time FROM trigger_fires WHERE trigger_id = ? ORDER BY fire_time DESC LIMIT 1 OFFSET ?)`,
    [triggerId, nowParam(before), triggerId, FIRE_HISTORY_MIN - 1],
  );
}

export interface FireRecord {
  fireTime: string;
  outcome: FireOutcome;
  reason: string;
  jobId: string | undefined;
}

/** A fire record with the key of its job, while that job exists, and when it was recorded. */
export interface FireListRow extends FireRecord {
  jobKey: string | undefined;
  handleTime: string;
}

/** A page of a trigger's fire records, newest first, those before `before` (a fire time) when given. */
export async function listFirePage(q: Queryable, triggerId: string, before: string | undefined, limit: number): Promise<FireListRow[]> {
  const rows = await q.query(
    `SELECT f.fire_time, f.outcome, f.reason, f.job_id, f.created_at, j.job_key
     FROM trigger_fires f LEFT JOIN jobs j ON j.id = f.job_id
     WHERE f.trigger_id = ?${before === undefined ? '' : ' AND f.fire_time < ?'}
     ORDER BY f.fire_time DESC LIMIT ?`,
    before === undefined ? [triggerId, limit] : [triggerId, before, limit],
  );
  return rows.map((r) => ({
    fireTime: toIso(r.fire_time)!,
    outcome: String(r.outcome) as FireOutcome,
    reason: String(r.reason),
    jobId: optionalId(r.job_id),
    jobKey: r.job_key == null ? undefined : String(r.job_key),
    handleTime: toIso(r.created_at)!,
  }));
}

/** A trigger's fire records, oldest first. */
export async function listFires(q: Queryable, triggerId: string): Promise<FireRecord[]> {
  const rows = await q.query(`SELECT fire_time, outcome, reason, job_id FROM trigger_fires WHERE trigger_id = ? ORDER BY fire_time`, [triggerId]);
  return rows.map((r) => ({ fireTime: toIso(r.fire_time)!, outcome: String(r.outcome) as FireOutcome, reason: String(r.reason), jobId: optionalId(r.job_id) }));
}

/** What queuing a trigger's job needs: its project and spider, and the project's latest version. */
export interface FireTarget {
  projectId: string;
  project: string;
  spiderId: string;
  spider: string;
  spiderSettingsJson: string;
  spiderMissing: boolean;
  version: { name: string; eggSha256: string; eggSize: number; settingsModule: string; spiders: string[] } | undefined;
}

export async function fireTarget(q: Queryable, triggerId: string): Promise<FireTarget | undefined> {
  const r = (
    await q.query(
      `SELECT p.id AS project_id, p.name AS project_name, s.id AS spider_id, s.name AS spider_name, s.settings_json, s.missing,
         v.name AS version_name, v.egg_sha256, v.egg_size, v.settings_module, v.spiders_json
       FROM triggers t JOIN spiders s ON s.id = t.spider_id JOIN projects p ON p.id = s.project_id
       LEFT JOIN versions v ON v.id = (SELECT v2.id FROM versions v2 WHERE v2.project_id = p.id ORDER BY v2.created_at DESC, v2.id DESC LIMIT 1)
       WHERE t.id = ?`,
      [triggerId],
    )
  )[0];
  if (!r) return undefined;
  return {
    projectId: idString(r.project_id),
    project: String(r.project_name),
    spiderId: idString(r.spider_id),
    spider: String(r.spider_name),
    spiderSettingsJson: String(r.settings_json),
    spiderMissing: toBool(r.missing),
    version:
      r.version_name == null
        ? undefined
        : {
            name: String(r.version_name),
            eggSha256: String(r.egg_sha256),
            eggSize: Number(r.egg_size),
            settingsModule: String(r.settings_module),
            spiders: JSON.parse(String(r.spiders_json)) as string[],
          },
  };
}
