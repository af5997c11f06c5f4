/** The dashboard's job statistics: counts now and over the last 24 hours, per hour, and each spider's newest job. */
import type { Principal } from '../../auth/principal.js';
import * as statsSql from '../../storage/job-stats-sql.js';
import type { JobFilter, JobRow } from '../../storage/jobs-repo.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { projectAccess } from '../projects/access.js';
import { parseJobParent } from './job-names.js';

const HOUR_MS = 3_600_000;
const HOURS = 24;
/** Most spiders in one answer. */
export const STATS_SPIDER_LIMIT = 500;

export interface JobStats {
  computeTime: string;
  counts: statsSql.JobCounts;
  /** Only for admins. */
  onlineNodes: number | undefined;
  hours: { startTime: string; startedJobs: number; items: number }[];
  spiders: statsSql.SpiderLastJob[];
}

export async function getJobStats(deps: Deps, principal: Principal, parent: string, now = new Date()): Promise<JobStats> {
  const { project, spider } = parseJobParent(parent);
  const f: JobFilter = {};
  const window = () => {
    const firstHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (HOURS - 1) * HOUR_MS;
    return { since: new Date(now.getTime() - HOURS * HOUR_MS).toISOString(), firstHour };
  };
  if (project) {
    const p = await projectAccess(deps.db, principal, project);
    f.projectId = p.id;
    if (spider) {
      const s = await projectsRepo.findSpider(deps.db, p.id, spider);
      f.spiderId = s?.id ?? '0';
    }
  } else if (!principal.admin) {
    const mine = await projectsRepo.listProjects(deps.db, principal.userId ?? '0', '', 100_000);
    f.visibleProjectIds = mine.map((p) => p.id);
  }
  const { since, firstHour } = window();
  const [counts, perHour, spiders, onlineNodes] = await Promise.all([
    statsSql.countJobs(deps.db, f, since),
    statsSql.startsPerHour(deps.db, f, new Date(firstHour).toISOString()),
    statsSql.spidersWithLastJob(deps.db, f, STATS_SPIDER_LIMIT),
    principal.admin ? statsSql.countOnlineNodes(deps.db) : Promise.resolve(undefined),
  ]);
  const hours = Array.from({ length: HOURS }, (_, i) => {
    const start = new Date(firstHour + i * HOUR_MS).toISOString();
    const bucket = perHour.get(start.slice(0, 13));
    return { startTime: start, startedJobs: bucket?.jobs ?? 0, items: bucket?.items ?? 0 };
  });
  return { computeTime: now.toISOString(), counts, onlineNodes, hours, spiders };
}
