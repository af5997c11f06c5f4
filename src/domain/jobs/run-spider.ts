/**
 * Running a spider: a PENDING job of one of its versions, and a wake-up for
 * dispatch. Runs requested at the same time (many clients scheduling at
 * once) are checked with one query and inserted with one statement.
 */
import type { Principal } from '../../auth/principal.js';
import { AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound } from '../../errors/domain-error.js';
import { GroupCommit } from '../../storage/group-commit.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { checkId } from '../names.js';
import { checkProjectAccess } from '../projects/access.js';
import { parseSpiderSettings } from '../projects/spider-settings.js';

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

interface RunRequest {
  principal: Principal;
  input: RunInput;
  id: string;
  key: string;
  createTime: string;
}

const SETTING_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Queues a PENDING job of a spider's version and wakes dispatch. */
export async function runSpider(deps: Deps, principal: Principal, input: RunInput): Promise<Job> {
  if (input.version) checkId(input.version, 'version');
  for (const k of Object.keys(input.settings)) {
    if (!SETTING_KEY.test(k)) throw new InvalidArgument(`'${k}' is not a Scrapy setting name`, { field: 'scrapy_settings' });
  }
  if (input.priority !== undefined && !Number.isFinite(input.priority)) {
    throw new InvalidArgument('priority must be a finite number', { field: 'priority' });
  }
  const id = deps.ids.next();
  const key = input.jobKey ? checkId(input.jobKey, 'job id', 'job_id') : id;
  const result = await runsOf(deps).submit({ principal, input, id, key, createTime: new Date().toISOString() });
  if (result instanceof DomainError) throw result;
  deps.logger.info({ job: key, project: input.project, spider: input.spider, version: result.versionName, by: principal.username }, 'job queued');
  deps.events.jobsQueued();
  return result;
}

const groups = new WeakMap<Deps['db'], GroupCommit<RunRequest, Job | DomainError>>();

function runsOf(deps: Deps): GroupCommit<RunRequest, Job | DomainError> {
  let group = groups.get(deps.db);
  if (!group) {
    group = new GroupCommit((requests) => queueRuns(deps, requests));
    groups.set(deps.db, group);
  }
  return group;
}

/** Checks and inserts a batch of runs: one query to read, one statement to insert. */
async function queueRuns(deps: Deps, requests: RunRequest[]): Promise<(Job | DomainError)[]> {
  const targets = await projectsRepo.findRunTargets(
    deps.db,
    requests.map((r) => ({ project: r.input.project, spider: r.input.spider, version: r.input.version })),
  );
  const results = requests.map((r, i): { job: jobsRepo.NewJob; row: Job } | DomainError => {
    try {
      return newJob(r, targets[i]);
    } catch (err) {
      if (err instanceof DomainError) return err;
      throw err;
    }
  });
  const jobs = results.flatMap((r) => (r instanceof DomainError ? [] : [r.job]));
  const inserted = await jobsRepo.insertJobs(deps.db, jobs);
  return results.map((r) => {
    if (r instanceof DomainError) return r;
    if (!inserted.has(r.job.id)) return new AlreadyExists(`job '${r.job.key}' already exists`, { field: 'job_id', reason: 'JOB_EXISTS' });
    return r.row;
  });
}

function newJob(r: RunRequest, target: projectsRepo.RunTarget | undefined): { job: jobsRepo.NewJob; row: Job } {
  const { input } = r;
  const project = checkProjectAccess(r.principal, input.project, target?.project);
  const { version, spider } = target!;
  if (!version) {
    throw input.version
      ? new NotFound(`version '${input.version}' not found`, { reason: 'VERSION_NOT_FOUND' })
      : new FailedPrecondition(`project '${input.project}' has no version`, { reason: 'NO_VERSION' });
  }
  if (!version.spiders.includes(input.spider) || !spider) {
    throw new NotFound(`spider '${input.spider}' not found`, { reason: 'SPIDER_NOT_FOUND' });
  }
  if (parseSpiderSettings(spider.settingsJson).disabled) {
    throw new FailedPrecondition(`spider '${input.spider}' is disabled; enable it in its settings (settings.disabled = false) to run it`, {
      reason: 'SPIDER_DISABLED',
    });
  }
  const job = buildJob({
    id: r.id,
    key: r.key,
    projectId: project.id,
    spiderId: spider.id,
    spiderSettingsJson: spider.settingsJson,
    version,
    args: input.args,
    settings: input.settings,
    priority: input.priority,
    triggerId: input.triggerId,
    createTime: r.createTime,
  });
  return { job, row: jobsRepo.newJobRow({ ...job, project: input.project, spider: input.spider, createTime: r.createTime }) };
}

/** What a job is made of: a spider's version, and the run's args and settings over the spider's defaults. */
export interface JobParts {
  id: string;
  key: string;
  projectId: string;
  spiderId: string;
  spiderSettingsJson: string;
  version: Pick<projectsRepo.VersionRow, 'name' | 'eggSha256' | 'eggSize' | 'settingsModule'>;
  args: Record<string, string>;
  settings: Record<string, string>;
  /** Default: the spider's priority. */
  priority?: number;
  triggerId?: string;
  createTime: string;
}

/** A PENDING job as a manual run makes it (tag, timeout and priority from the spider's settings); triggers make theirs with it too. */
export function buildJob(p: JobParts): jobsRepo.NewJob {
  const defaults = parseSpiderSettings(p.spiderSettingsJson);
  return {
    id: p.id,
    key: p.key,
    projectId: p.projectId,
    spiderId: p.spiderId,
    versionName: p.version.name,
    eggSha256: p.version.eggSha256,
    eggSize: p.version.eggSize,
    settingsModule: p.version.settingsModule,
    priority: p.priority ?? defaults.priority,
    tag: defaults.tag,
    args: { ...defaults.args, ...p.args },
    settings: { ...defaults.scrapySettings, ...p.settings },
    timeoutSeconds: defaults.timeoutSeconds,
    attempt: 1,
    triggerId: p.triggerId,
    createTime: p.createTime,
  };
}
