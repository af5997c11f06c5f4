/** Jobs: run a spider, cancel, look up and list; the agent-facing transitions live in job-reports.ts. */
import type { Principal } from '../../auth/principal.js';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound } from '../../errors/domain-error.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { checkId } from '../names.js';
import { checkProjectAccess, projectAccess } from '../projects/access.js';
import { parseSpiderSettings } from '../projects/spider-settings.js';
import type { JobState } from './job-state.js';
import { parseJobName } from './job-names.js';

export type Job = jobsRepo.JobRow;

export interface RunInput {
  project: string;
  spider: string;
  /** Version id; empty for the latest. */
  version: string;
  args: Record<string, string>;
  settings: Record<string, string>;
  priority?: number;
  /** Client-chosen job id (scrapyd's jobid); default a snowflake. */
  jobKey?: string;
  triggerId?: string;
}

const SETTING_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Queues a PENDING job of a spider's version and wakes dispatch: one query
 * to read what it needs, one (shared with concurrent runs) to insert.
 */
export async function runSpider(deps: Deps, principal: Principal, input: RunInput): Promise<Job> {
  const versionId = input.version ? checkId(input.version, 'version') : '';
  const target = await projectsRepo.findRunTarget(deps.db, input.project, input.spider, versionId);
  const project = checkProjectAccess(principal, input.project, target?.project);
  const { version, spider } = target!;
  if (!version) {
    throw input.version
      ? new NotFound(`version '${input.version}' not found`, { reason: 'VERSION_NOT_FOUND' })
      : new FailedPrecondition(`project '${input.project}' has no version`, { reason: 'NO_VERSION' });
  }
  if (!version.spiders.includes(input.spider) || !spider) {
    throw new NotFound(`spider '${input.spider}' not found`, { reason: 'SPIDER_NOT_FOUND' });
  }
  for (const k of Object.keys(input.settings)) {
    if (!SETTING_KEY.test(k)) throw new InvalidArgument(`'${k}' is not a Scrapy setting name`, { field: 'scrapy_settings' });
  }
  const defaults = parseSpiderSettings(spider.settingsJson);
  const priority = input.priority ?? defaults.priority;
  if (!Number.isFinite(priority)) throw new InvalidArgument('priority must be a finite number', { field: 'priority' });
  const id = deps.ids.next();
  const key = input.jobKey ? checkId(input.jobKey, 'job id', 'job_id') : id;
  const job: jobsRepo.NewJob = {
    id,
    key,
    projectId: project.id,
    spiderId: spider.id,
    versionName: version.name,
    eggSha256: version.eggSha256,
    eggSize: version.eggSize,
    settingsModule: version.settingsModule,
    priority,
    tag: defaults.tag,
    args: { ...defaults.args, ...input.args },
    settings: { ...defaults.scrapySettings, ...input.settings },
    timeoutSeconds: defaults.timeoutSeconds,
    attempt: 1,
    triggerId: input.triggerId,
    createTime: new Date().toISOString(),
  };
  if (!(await jobsRepo.insertJobGrouped(deps.db, job))) {
    throw new AlreadyExists(`job '${key}' already exists`, { field: 'job_id', reason: 'JOB_EXISTS' });
  }
  deps.logger.info({ job: key, project: input.project, spider: input.spider, version: version.name, by: principal.username }, 'job queued');
  deps.events.jobRunnable();
  return jobsRepo.newJobRow({ ...job, project: input.project, spider: input.spider, createTime: job.createTime! });
}

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
