/** Jobs: run a spider, cancel, look up and list; the agent-facing transitions live in job-reports.ts. */
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument, NotFound } from '../../errors/domain-error.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import type { Deps } from '../deps.js';
import { projectAccess } from '../projects/access.js';
import type { JobState } from './job-state.js';
import { parseJobName } from './job-names.js';

export type Job = jobsRepo.JobRow;

export { runSpider, type RunInput } from './run-spider.js';

/** The job named `projects/{p}/spiders/{s}/jobs/{j}` if the caller may see it. */
export async function getJob(deps: Deps, principal: Principal, name: string): Promise<Job> {
  const { project, spider, job } = parseJobName(name);
  await projectAccess(deps.db, principal, project);
  const row = await jobsRepo.findJobByKey(deps.db, job);
  if (!row || row.project !== project || row.spider !== spider) throw new NotFound(`job '${job}' not found`, { reason: 'JOB_NOT_FOUND' });
  return row;
}

/** A job by its scrapyd id (optionally within a project), if the caller may see it. */
export async function findJobForScrapyd(deps: Deps, principal: Principal, key: string, project?: string): Promise<Job | undefined> {
  const row = await jobsRepo.findJobByKey(deps.db, key);
  if (!row || (project !== undefined && row.project !== project)) return undefined;
  try {
    await projectAccess(deps.db, principal, row.project);
  } catch {
    return undefined;
  }
  return row;
}

/**
 * Cancels a job: PENDING → CANCELLED at once; RUNNING → CANCELLING and its
 * agent is told to stop it. Returns the state it had.
 */
export async function cancelJob(deps: Deps, principal: Principal, job: Job, signal = 'INT'): Promise<JobState> {
  await projectAccess(deps.db, principal, job.project);
  const sig = normalizeSignal(signal);
  if (await jobsRepo.transitionJob(deps.db, job.id, ['PENDING'], 'CANCELLED', { close_reason: 'cancelled', ended_at: new Date().toISOString() })) {
    deps.logger.info({ job: job.key, by: principal.username }, 'pending job cancelled');
    return 'PENDING';
  }
  if (await jobsRepo.transitionJob(deps.db, job.id, ['RUNNING', 'CANCELLING'], 'CANCELLING', { cancel_signal: sig })) {
    deps.logger.info({ job: job.key, by: principal.username, signal: sig }, 'running job cancelling');
    deps.events.jobCancelRequested(job.id);
    return job.state === 'CANCELLING' ? 'CANCELLING' : 'RUNNING';
  }
  const now = await jobsRepo.findJobById(deps.db, job.id);
  return now?.state ?? job.state;
}

const SIGNALS: Record<string, string> = { INT: 'INT', SIGINT: 'INT', '2': 'INT', TERM: 'TERM', SIGTERM: 'TERM', '15': 'TERM', KILL: 'KILL', SIGKILL: 'KILL', '9': 'KILL' };

export function normalizeSignal(signal: string): string {
  const sig = SIGNALS[signal.toUpperCase()];
  if (!sig) throw new InvalidArgument(`unknown signal '${signal}': use INT, TERM or KILL`, { field: 'signal' });
  return sig;
}
