/**
 * What agents report about their jobs, applied to the database: start, log
 * lines, items, the end; and jobs lost with their agent. Every change checks
 * that the job still belongs to the reporting node and is still active, so a
 * late or duplicated report can never revive a finished job.
 */
import * as jobsRepo from '../../storage/jobs-repo.js';
import type { Queryable } from '../../storage/database.js';
import type { Deps } from '../deps.js';
import { parseSpiderSettings } from '../projects/spider-settings.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import { ACTIVE_STATES, type JobState } from './job-state.js';

export type Job = jobsRepo.JobRow;

/** The job if `nodeId` holds it (RUNNING or CANCELLING). */
export async function ownedActiveJob(q: Queryable, nodeId: string, key: string): Promise<Job | undefined> {
  const job = await jobsRepo.findJobByKey(q, key);
  return job && job.nodeId === nodeId && ACTIVE_STATES.includes(job.state) ? job : undefined;
}

export async function applyStarted(deps: Deps, nodeId: string, key: string, pid: number): Promise<void> {
  const job = await jobsRepo.findJobByKey(deps.db, key);
  if (job) await jobsRepo.setJobPid(deps.db, job.id, nodeId, pid);
}

/** Appends log lines or items; returns false when the node does not own the job. */
export async function applyChunk(deps: Deps, nodeId: string, key: string, kind: jobsRepo.ChunkKind, firstIndex: number, values: string[]): Promise<boolean> {
  return deps.db.transaction(async (tx) => {
    // Log and item batches need not wait for the WAL flush: if the database
    // loses the last commits in a crash, it loses the counters with them, and
    // the agent re-sends from the counts the server reports at its next hello.
    if (tx.kind === 'postgres') await tx.query('SET LOCAL synchronous_commit = off');
    const job = await ownedActiveJob(tx, nodeId, key);
    if (!job) return false;
    if ((await jobsRepo.appendChunk(tx, job, kind, firstIndex, values)) < 0) {
      deps.logger.warn({ job: key, kind, firstIndex, have: job[kind === 'log' ? 'logLineCount' : 'itemCount'] }, 'dropped a batch after a gap');
    }
    return true;
  });
}

export interface FinishReport {
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  exitCode: number;
  warning: boolean;
  closeReason: string;
  statsJson: string;
  itemCount: number;
  logLineCount: number;
}

/** Ends a job as its agent reports; a FAILED job is retried if its spider allows. */
export async function applyFinished(deps: Deps, nodeId: string, key: string, r: FinishReport): Promise<Job | undefined> {
  const done = await deps.db.transaction(async (tx) => {
    const job = await ownedActiveJob(tx, nodeId, key);
    if (!job) return undefined;
    await jobsRepo.transitionJob(tx, job.id, ACTIVE_STATES, r.state, {
      exit_code: r.exitCode,
      warning: r.warning,
      close_reason: r.closeReason,
      stats_json: r.statsJson,
      ended_at: new Date().toISOString(),
    });
    if (r.state === 'FAILED') await retryIfAllowed(deps, tx, job);
    await jobsRepo.pruneFinishedJobs(tx, job.spiderId, deps.settings.jobsToKeep);
    return job;
  });
  if (done) {
    deps.logger.info({ job: key, state: r.state, warning: r.warning, exitCode: r.exitCode, items: r.itemCount }, 'job finished');
    deps.events.jobRunnable();
  }
  return done;
}

/** Marks an active job LOST (its agent went away) and retries it if allowed. */
export async function loseJob(deps: Deps, jobId: string, why: string): Promise<boolean> {
  const lost = await deps.db.transaction(async (tx) => {
    const job = await jobsRepo.findJobById(tx, jobId);
    if (!job) return false;
    const moved = await jobsRepo.transitionJob(tx, job.id, ACTIVE_STATES, 'LOST', { close_reason: why, ended_at: new Date().toISOString() });
    if (moved && job.state !== 'CANCELLING') await retryIfAllowed(deps, tx, job);
    if (moved) await jobsRepo.pruneFinishedJobs(tx, job.spiderId, deps.settings.jobsToKeep);
    return moved;
  });
  if (lost) {
    deps.logger.warn({ jobId, why }, 'job lost');
    deps.events.jobRunnable();
  }
  return lost;
}

/** A new PENDING attempt of `job` when its spider's `retries` allow one more. */
async function retryIfAllowed(deps: Deps, tx: Queryable, job: Job): Promise<void> {
  const spider = await projectsRepo.findSpider(tx, job.projectId, job.spider);
  const retries = spider ? parseSpiderSettings(spider.settingsJson).retries : 0;
  if (job.attempt > retries) return;
  const id = deps.ids.next();
  const base = job.key.replace(/-r\d+$/, '');
  await jobsRepo.insertJob(tx, {
    id,
    key: `${base}-r${job.attempt + 1}`,
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
