/** scrapydd.v1.JobService and SpiderService.RunSpider over the domain. */
import { JobServiceService } from '../../../gen/scrapydd/v1/job.js';
import type { Deps } from '../../domain/deps.js';
import { listJobs } from '../../domain/jobs/job-listing.js';
import { getJobStats } from '../../domain/jobs/job-stats.js';
import * as jobs from '../../domain/jobs/job-service.js';
import { TERMINAL_STATES } from '../../domain/jobs/job-state.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as webhooksRepo from '../../storage/webhooks-repo.js';
import { jobToProto } from '../../dispatch/job-to-proto.js';
import { bind, type ServiceBinding } from './service-binding.js';

const POLL_MS = 250;

export function jobService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.JobService', JobServiceService, {
    async getJob(req, ctx) {
      const job = await jobs.getJob(deps, ctx.principal, req.name);
      return jobToProto(job, (await webhooksRepo.deliveriesOfJobs(deps.db, [job.id])).get(job.id));
    },
    async listJobs(req, ctx) {
      const { items, nextPageToken } = await listJobs(deps, ctx.principal, req);
      // One query for the page's webhook deliveries.
      const deliveries = await webhooksRepo.deliveriesOfJobs(deps.db, items.map((j) => j.id));
      return { jobs: items.map((j) => jobToProto(j, deliveries.get(j.id))), nextPageToken };
    },
    async getJobStats(req, ctx) {
      const stats = await getJobStats(deps, ctx.principal, req.parent);
      const lastJobs = stats.spiders.flatMap((s) => (s.lastJob ? [s.lastJob.id] : []));
      const deliveries = await webhooksRepo.deliveriesOfJobs(deps.db, lastJobs);
      const c = stats.counts;
      return {
        computeTime: stats.computeTime,
        pendingJobs: String(c.pending),
        runningJobs: String(c.running),
        succeededJobs: String(c.succeeded),
        failedJobs: String(c.failed),
        cancelledJobs: String(c.cancelled),
        lostJobs: String(c.lost),
        onlineNodes: stats.onlineNodes,
        hours: stats.hours.map((h) => ({ startTime: h.startTime, startedJobs: String(h.startedJobs), items: String(h.items) })),
        spiders: stats.spiders.map((s) => ({
          spider: `projects/${s.project}/spiders/${s.spider}`,
          lastJob: s.lastJob && jobToProto(s.lastJob, deliveries.get(s.lastJob.id)),
          nextFireTime: s.nextFireTime,
        })),
      };
    },
    async cancelJob(req, ctx) {
      const job = await jobs.getJob(deps, ctx.principal, req.name);
      await jobs.cancelJob(deps, ctx.principal, job, req.signal || 'INT');
      return jobToProto((await jobsRepo.findJobById(deps.db, job.id))!, (await webhooksRepo.deliveriesOfJobs(deps.db, [job.id])).get(job.id));
    },
    async readJobLog(req, stream, ctx) {
      const job = await jobs.getJob(deps, ctx.principal, req.name);
      await streamChunks(deps, job.id, 'log', Number(req.firstLine), req.follow, stream.signal, (firstLine, lines) =>
        stream.send({ firstLine: String(firstLine), lines }),
      );
    },
    async readJobItems(req, stream, ctx) {
      const job = await jobs.getJob(deps, ctx.principal, req.name);
      await streamChunks(deps, job.id, 'items', Number(req.firstItem), false, stream.signal, (firstItem, items) =>
        stream.send({ firstItem: String(firstItem), items }),
      );
    },
  });
}

/** Sends a job's log lines or items from `from` on; with `follow`, until the job has ended and all is sent. */
export async function streamChunks(
  deps: Deps,
  jobId: string,
  kind: jobsRepo.ChunkKind,
  from: number,
  follow: boolean,
  signal: AbortSignal,
  send: (first: number, values: string[]) => Promise<void>,
  /** Most values to send. */
  limit = Infinity,
): Promise<void> {
  let next = Math.max(0, from);
  const end = next + limit;
  for (;;) {
    const chunks = await jobsRepo.readChunks(deps.db, jobId, kind, next, 100);
    for (const c of chunks) {
      const values = c.values.slice(next - c.firstIndex, end - c.firstIndex);
      if (values.length) await send(next, values);
      next = c.firstIndex + c.values.length;
      if (next >= end) return;
    }
    if (chunks.length === 100) continue;
    if (!follow || signal.aborted) return;
    const job = await jobsRepo.findJobById(deps.db, jobId);
    if (!job || TERMINAL_STATES.has(job.state)) {
      if (job && next < (kind === 'log' ? job.logLineCount : job.itemCount)) continue;
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
