/** scrapyd's job endpoints: schedule, cancel, status, listjobs, daemonstatus. */
import type { Deps } from '../../domain/deps.js';
import * as jobs from '../../domain/jobs/job-service.js';
import { listJobs } from '../../domain/jobs/job-listing.js';
import { scrapydState, type JobState } from '../../domain/jobs/job-state.js';
import { checkId } from '../../domain/names.js';
import { projectAccess } from '../../domain/projects/access.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import type { CallContext } from '../call-context.js';
import { required } from './scrapyd-io.js';

const RESERVED = new Set(['project', 'spider', '_version', 'jobid', 'priority', 'setting']);

export async function schedule(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = checkId(required(params, 'project'), 'project');
  const spider = checkId(required(params, 'spider'), 'spider');
  const settings: Record<string, string> = {};
  for (const s of params.getAll('setting')) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new InvalidArgument(`setting '${s}' is not KEY=VALUE`, { field: 'setting' });
    settings[s.slice(0, eq)] = s.slice(eq + 1);
  }
  const args: Record<string, string> = {};
  for (const [k, v] of params) if (!RESERVED.has(k)) args[k] = v;
  const priorityText = params.get('priority');
  const priority = priorityText === null || priorityText === '' ? undefined : Number(priorityText);
  if (priority !== undefined && !Number.isFinite(priority)) throw new InvalidArgument(`priority '${priorityText}' is not a number`, { field: 'priority' });
  const job = await jobs.runSpider(deps, ctx.principal, {
    project,
    spider,
    version: params.get('_version') ?? '',
    args,
    settings,
    priority,
    jobKey: params.get('jobid') || undefined,
  });
  return { jobid: job.key };
}

export async function cancel(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = checkId(required(params, 'project'), 'project');
  const key = required(params, 'job');
  await projectAccess(deps.db, ctx.principal, project);
  const job = await jobs.findJobForScrapyd(deps, ctx.principal, key, project);
  if (!job) return { prevstate: null };
  const prev = await jobs.cancelJob(deps, ctx.principal, job, params.get('signal') ?? 'INT');
  return { prevstate: prev === 'PENDING' ? 'pending' : prev === 'RUNNING' || prev === 'CANCELLING' ? 'running' : null };
}

export async function status(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const key = required(params, 'job');
  const project = params.get('project') ?? undefined;
  const job = await jobs.findJobForScrapyd(deps, ctx.principal, key, project);
  return { currstate: job ? scrapydState(job.state) : null };
}

const FINISHED_SHOWN = 100;
const seconds = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace('Z', '') : null);

export async function listjobs(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = params.get('project');
  const parent = project ? `projects/${checkId(project, 'project')}/spiders/-` : 'projects/-/spiders/-';
  const byState = async (states: JobState[], limit: number) => {
    const filter = `state = (${states.join(' OR ')})`;
    const rows: jobsRepo.JobRow[] = [];
    let pageToken = '';
    do {
      const page = await listJobs(deps, ctx.principal, { parent, pageSize: Math.min(1000, limit - rows.length), pageToken, filter, orderBy: '' });
      rows.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken && rows.length < limit);
    return rows;
  };
  const urls = (j: jobsRepo.JobRow) => ({ log_url: `/logs/${j.project}/${j.spider}/${j.key}.log`, items_url: `/items/${j.project}/${j.spider}/${j.key}.jl` });
  const pending = (await byState(['PENDING'], 100_000)).reverse();
  const running = (await byState(['RUNNING', 'CANCELLING'], 100_000)).reverse();
  const finished = await byState(['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'], FINISHED_SHOWN);
  return {
    pending: pending.map((j) => ({ id: j.key, project: j.project, spider: j.spider, version: j.versionName, settings: j.settings, args: j.args })),
    running: running.map((j) => ({ id: j.key, project: j.project, spider: j.spider, pid: j.pid ?? null, start_time: seconds(j.startTime), ...urls(j) })),
    finished: finished.map((j) => ({ id: j.key, project: j.project, spider: j.spider, start_time: seconds(j.startTime), end_time: seconds(j.endTime), ...urls(j) })),
  };
}

export async function daemonstatus(deps: Deps, ctx: CallContext): Promise<Record<string, unknown>> {
  let visible: string[] | undefined;
  if (!ctx.principal.admin) visible = (await projectsRepo.listProjects(deps.db, ctx.principal.userId ?? '0', '', 100_000)).map((p) => p.id);
  const counts = await jobsRepo.countJobsByState(deps.db, { visibleProjectIds: visible });
  const n = (...states: JobState[]) => states.reduce((sum, s) => sum + (counts.get(s) ?? 0), 0);
  return { pending: n('PENDING'), running: n('RUNNING', 'CANCELLING'), finished: n('SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST') };
}
