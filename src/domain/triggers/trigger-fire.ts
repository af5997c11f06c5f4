/**
 * Firing due triggers. Each fire time is claimed in the database (the
 * compare-and-set of triggers-repo.claimFire plus a unique fire record) in
 * the same transaction that queues its job, so one server wins each fire
 * time, whatever the number of servers and restarts. A fire time missed by
 * more than the misfire grace (every server was down) is recorded as MISSED;
 * of several missed fire times at most the newest within the grace runs.
 */
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as repo from '../../storage/triggers-repo.js';
import { nowParam } from '../../storage/sql-dialect.js';
import type { Deps } from '../deps.js';
import { buildJob } from '../jobs/run-spider.js';
import { parseSpiderSettings } from '../projects/spider-settings.js';
import { parseCron } from './cron-expression.js';
import { nextFireTime } from './cron-schedule.js';

export interface FireOptions {
  /** How late a fire time may be handled and still run (misfire_grace). */
  readonly misfireGraceMs: number;
  readonly now: () => Date;
}

/** A fire handled within this of its time is on time, whatever the grace: timers are not exact. */
export const ON_TIME_MS = 5000;

export interface FireResult {
  triggerId: string;
  fireTime: string;
  outcome: repo.FireOutcome;
  reason: string;
  /** The job queued, when outcome is QUEUED. */
  jobId?: string;
}

const BATCH = 100;

/** Handles every trigger whose fire time has come; returns what this server fired (other servers' wins are left out). */
export async function fireDueTriggers(deps: Deps, opts: FireOptions): Promise<FireResult[]> {
  const results: FireResult[] = [];
  for (;;) {
    const now = opts.now();
    const due = await repo.dueTriggers(deps.db, now, BATCH);
    let failed = false;
    for (const t of due) {
      try {
        const r = await fireTrigger(deps, t, now, opts.misfireGraceMs);
        if (r) results.push(r);
      } catch (err) {
        failed = true;
        deps.logger.error({ trigger: t.id, err }, 'trigger fire failed');
      }
    }
    // A full batch may hide more due triggers; a failed one would come back first, so the clock retries later.
    if (due.length < BATCH || failed) break;
  }
  if (results.some((r) => r.outcome === 'QUEUED')) deps.events.jobsQueued();
  return results;
}

/** Fires one due trigger at `now`, or nothing when another server claimed this fire time first. */
export async function fireTrigger(deps: Deps, due: repo.DueTrigger, now: Date, misfireGraceMs: number): Promise<FireResult | undefined> {
  const cron = parseCron(due.cron);
  const scheduled = new Date(due.nextFireTime);
  const graceMs = Math.max(misfireGraceMs, ON_TIME_MS);
  // The newest fire time in [max(scheduled, now - grace), now]: it runs, older ones are missed.
  const lower = Math.max(scheduled.getTime(), now.getTime() - graceMs);
  let fire: Date | undefined = scheduled.getTime() >= lower ? scheduled : nextFireTime(cron, due.timeZone, new Date(lower - 1));
  if (fire && fire > now) fire = undefined;
  for (let n = fire && nextFireTime(cron, due.timeZone, fire); fire && n && n <= now; n = nextFireTime(cron, due.timeZone, n)) fire = n;
  const next = nextFireTime(cron, due.timeZone, now);

  const result = await deps.db.transaction(async (tx): Promise<FireResult | undefined> => {
    if (!(await repo.claimFire(tx, due.id, due.nextFireTime, next?.toISOString()))) return undefined;
    const lateS = Math.round((now.getTime() - scheduled.getTime()) / 1000);
    const missedReason = `missed: handled ${lateS} s after its time, beyond misfire_grace (${Math.round(misfireGraceMs / 1000)} s)`;
    if (!fire) {
      const missed = { triggerId: due.id, fireTime: due.nextFireTime, outcome: 'MISSED' as const, reason: missedReason, jobId: undefined };
      return (await repo.recordFire(tx, missed)) ? missed : undefined;
    }
    if (fire > scheduled) {
      await repo.recordFire(tx, { triggerId: due.id, fireTime: due.nextFireTime, outcome: 'MISSED', reason: `missed: the later fire time ${fire.toISOString()} ran instead`, jobId: undefined });
    }
    const trigger = (await repo.findTriggerById(tx, due.id))!;
    const target = (await repo.fireTarget(tx, due.id))!;
    const defaults = parseSpiderSettings(target.spiderSettingsJson);
    const fireTime = nowParam(fire);
    let skip: { outcome: repo.FireOutcome; reason: string } | undefined;
    if (!target.version) skip = { outcome: 'NO_VERSION', reason: `project '${target.project}' has no version` };
    else if (target.spiderMissing || !target.version.spiders.includes(target.spider)) {
      skip = { outcome: 'SPIDER_MISSING', reason: `spider '${target.spider}' is not in the latest version '${target.version.name}'` };
    } else if (defaults.disabled) skip = { outcome: 'SPIDER_DISABLED', reason: `spider '${target.spider}' is disabled (settings.disabled)` };
    if (skip) {
      const skipped = { triggerId: due.id, fireTime, ...skip, jobId: undefined };
      return (await repo.recordFire(tx, skipped)) ? skipped : undefined;
    }
    const jobId = deps.ids.next();
    // The fire record first: a fire time recorded before (by a server whose clock ran ahead) queues nothing.
    if (!(await repo.recordFire(tx, { triggerId: due.id, fireTime, outcome: 'QUEUED', reason: '', jobId }))) return undefined;
    const job = buildJob({
      id: jobId,
      key: jobId,
      projectId: target.projectId,
      spiderId: target.spiderId,
      spiderSettingsJson: target.spiderSettingsJson,
      version: target.version!,
      args: trigger.args,
      settings: trigger.settings,
      triggerId: due.id,
      createTime: nowParam(now),
    });
    await jobsRepo.insertJob(tx, job);
    return { triggerId: due.id, fireTime, outcome: 'QUEUED', reason: '', jobId };
  });
  if (!result) return undefined;
  const log = { trigger: due.id, fireTime: result.fireTime, outcome: result.outcome, ...(result.jobId ? { job: result.jobId } : {}) };
  if (result.outcome === 'QUEUED') deps.logger.info(log, 'trigger fired');
  else deps.logger.info({ ...log, reason: result.reason }, 'trigger fire skipped');
  return result;
}
