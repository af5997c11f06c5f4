/**
 * What agents report, applied to the database: heartbeats, job starts, log
 * lines, items, ends; and jobs lost with their agent. Reports are applied in
 * batches (many sessions' reports in one transaction, see applyReports);
 * every change checks that the job still belongs to the reporting node and
 * is still active, so a late or duplicated report can never revive a
 * finished job.
 */
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as reportSql from '../../storage/job-report-sql.js';
import * as sessionsRepo from '../../storage/sessions-repo.js';
import { CoalescedTask } from '../../storage/coalesced-task.js';
import type { Queryable } from '../../storage/database.js';
import type { Deps } from '../deps.js';
import { parseSpiderSettings } from '../projects/spider-settings.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import { ACTIVE_STATES, type JobState } from './job-state.js';
import { retryKey } from './job-names.js';
import { afterJobEnds, recordJobEnds, type EndedJob } from './job-end-effects.js';

export type Job = jobsRepo.JobRow;

export interface FinishReport {
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  exitCode: number;
  warning: boolean;
  closeReason: string;
  statsJson: string;
  itemCount: number;
  logLineCount: number;
}

/** One message of an agent's session that changes the database. */
export type AgentReport =
  | { type: 'heartbeat'; nodeId: string; sessionId: string }
  | { type: 'started'; nodeId: string; key: string; pid: number }
  | { type: 'chunk'; nodeId: string; key: string; kind: jobsRepo.ChunkKind; firstIndex: number; values: string[] }
  | { type: 'finished'; nodeId: string; key: string; report: FinishReport };

/**
 * What became of a report. `ok`: for a heartbeat, the session is still its
 * node's current one; for a chunk or an end, the node holds the job (when it
 * does not, the agent is told to kill it); a start is always ok. `ended`:
 * the job a `finished` report ended.
 */
export interface ReportOutcome {
  ok: boolean;
  /** The key of the job a `finished` report ended. */
  ended?: string;
}

/**
 * Applies reports of any sessions in one transaction, in order, with a
 * constant number of statements. Log lines and items at or below what the
 * server has are skipped; a batch after a gap is dropped (the agent re-sends
 * from the server's counts after its next reconnect).
 */
export async function applyReports(deps: Deps, reports: readonly AgentReport[]): Promise<ReportOutcome[]> {
  const ended: reportSql.ReportedJob[] = [];
  /** Keys of ended jobs that were CANCELLING: a user asked to stop them. */
  const cancelling = new Set<string>();
  let effects: EndedJob[] = [];
  let retried = false;
  // Heartbeats, starts, log lines and items need not wait for the WAL flush:
  // if a crash loses them, the agent re-sends log and items from the counts
  // the server reports at its next hello, and heartbeats come every few
  // seconds. An end is durable before it counts as received.
  const asyncCommit = !reports.some((r) => r.type === 'finished');
  const outcomes = await deps.db.transaction(async (tx) => {
    const outcomes: ReportOutcome[] = reports.map(() => ({ ok: true }));
    // A retried transaction starts over.
    ended.length = 0;
    cancelling.clear();
    effects = [];

    const beats = reports.flatMap((r, i) => (r.type === 'heartbeat' ? [{ i, r }] : []));
    if (beats.length > 0) {
      const current = await sessionsRepo.heartbeats(tx, beats.map((b) => b.r));
      for (const b of beats) outcomes[b.i] = { ok: current.has(b.r.sessionId) };
    }

    const keys = [...new Set(reports.flatMap((r) => (r.type === 'heartbeat' ? [] : [r.key])))];
    const jobs = new Map((await reportSql.lockJobsByKey(tx, keys)).map((j) => [j.key, j]));
    const changed = new Set<reportSql.ReportedJob>();
    const chunks: reportSql.NewChunk[] = [];
    const endTime = new Date().toISOString();
    reports.forEach((r, i) => {
      if (r.type === 'heartbeat') return;
      const job = jobs.get(r.key);
      if (!job || job.nodeId !== r.nodeId || !ACTIVE_STATES.includes(job.state)) {
        outcomes[i] = { ok: r.type === 'started' };
        return;
      }
      if (r.type === 'started') {
        job.pid = r.pid;
      } else if (r.type === 'chunk') {
        const have = r.kind === 'log' ? job.logLineCount : job.itemCount;
        if (r.firstIndex > have) {
          deps.logger.warn({ job: r.key, kind: r.kind, firstIndex: r.firstIndex, have }, 'dropped a batch after a gap');
          return;
        }
        const fresh = r.values.slice(have - r.firstIndex);
        if (fresh.length === 0) return;
        chunks.push({ jobId: job.id, kind: r.kind, firstIndex: have, values: fresh });
        if (r.kind === 'log') job.logLineCount += fresh.length;
        else job.itemCount += fresh.length;
      } else {
        const f = r.report;
        job.end = { state: f.state, exitCode: f.exitCode, warning: f.warning, closeReason: f.closeReason, statsJson: f.statsJson, endTime };
        if (job.state === 'CANCELLING') cancelling.add(job.key);
        job.state = f.state;
        ended.push(job);
        outcomes[i] = { ok: true, ended: job.key };
      }
      changed.add(job);
    });
    await reportSql.writeReports(tx, [...changed], chunks);
    for (const job of ended) {
      let again = false;
      // A job a user was stopping is not started again, even when it failed before the stop took effect.
      if (job.state === 'FAILED' && !cancelling.has(job.key)) {
        const full = await jobsRepo.findJobById(tx, job.id);
        again = full !== undefined && (await retryIfAllowed(deps, tx, full));
        if (again) retried = true;
      }
      effects.push({ id: job.id, key: job.key, spiderId: job.spiderId, state: job.state, retried: again, cancelRequested: cancelling.has(job.key) });
    }
    await recordJobEnds(deps, tx, effects);
    return outcomes;
  }, { asyncCommit });
  if (ended.length > 0) {
    for (const job of ended) {
      deps.logger.info({ job: job.key, state: job.state, warning: job.end!.warning, exitCode: job.end!.exitCode, items: job.itemCount }, 'job finished');
    }
    pruneSpiders(deps, ended.map((j) => j.spiderId));
    deps.events.capacityFreed();
    if (retried) deps.events.jobsQueued();
    afterJobEnds(deps, effects);
  }
  return outcomes;
}

const PRUNE_INTERVAL_MS = 1000;
/** Jobs deleted per spider and pass: a pass stays in the milliseconds, a long history drains over a few passes. */
const PRUNE_BATCH = 200;
const pruners = new WeakMap<Deps['db'], CoalescedTask<string>>();

/**
 * Keeps jobs_to_keep finished jobs per spider: off the path of the reports,
 * at most once a second, all spiders that ended jobs meanwhile at once, a
 * batch per spider and pass.
 */
function pruneSpiders(deps: Deps, spiderIds: string[]): void {
  let pruner = pruners.get(deps.db);
  if (!pruner) {
    const task: CoalescedTask<string> = new CoalescedTask<string>(PRUNE_INTERVAL_MS, async (ids) => {
      for (const spiderId of ids) {
        try {
          const deleted = await jobsRepo.pruneFinishedJobs(deps.db, spiderId, deps.settings.jobsToKeep, PRUNE_BATCH);
          if (deleted === PRUNE_BATCH) task.request(spiderId); // more beyond the batch: the next pass
        } catch (err) {
          deps.logger.warn({ err, spiderId }, 'pruning finished jobs failed; retried at the next end');
        }
      }
    });
    pruner = task;
    pruners.set(deps.db, pruner);
  }
  pruner.request(...spiderIds);
}

/** Marks an active job LOST (its agent went away) and retries it if allowed. */
export async function loseJob(deps: Deps, jobId: string, why: string): Promise<boolean> {
  const lost = await deps.db.transaction(async (tx) => {
    const job = await jobsRepo.findJobById(tx, jobId);
    if (!job) return undefined;
    const moved = await jobsRepo.transitionJob(tx, job.id, ACTIVE_STATES, 'LOST', { close_reason: why, ended_at: new Date().toISOString() });
    if (!moved) return undefined;
    const retried = job.state !== 'CANCELLING' && (await retryIfAllowed(deps, tx, job));
    const effect: EndedJob = { id: job.id, key: job.key, spiderId: job.spiderId, state: 'LOST', retried, cancelRequested: job.state === 'CANCELLING' };
    await recordJobEnds(deps, tx, [effect]);
    return { job, retried, effect };
  });
  if (lost) {
    deps.logger.warn({ jobId, why }, 'job lost');
    pruneSpiders(deps, [lost.job.spiderId]);
    deps.events.capacityFreed();
    if (lost.retried) deps.events.jobsQueued();
    afterJobEnds(deps, [lost.effect]);
  }
  return lost !== undefined;
}

/** A new PENDING attempt of `job` when its spider's `retries` allow one more; whether one was queued. */
async function retryIfAllowed(deps: Deps, tx: Queryable, job: Job): Promise<boolean> {
  const spider = await projectsRepo.findSpider(tx, job.projectId, job.spider);
  const retries = spider ? parseSpiderSettings(spider.settingsJson).retries : 0;
  if (job.attempt > retries) return false;
  const id = deps.ids.next();
  return jobsRepo.insertJob(tx, {
    id,
    key: retryKey(job.key, job.attempt),
    projectId: job.projectId,
    spiderId: job.spiderId,
    versionName: job.versionName,
    eggSha256: job.eggSha256,
    eggSize: job.eggSize,
    settingsModule: job.settingsModule,
    priority: job.priority,
    tag: job.tag,
    args: job.args,
    settings: job.settings,
    timeoutSeconds: job.timeoutSeconds,
    attempt: job.attempt + 1,
    retryOf: job.id,
    triggerId: job.triggerId,
  });
}

export type { JobState };
