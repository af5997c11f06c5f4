/** Listing jobs across spiders and projects (AIP-159 `-`), newest first, with a small filter language. */
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import * as jobsRepo from '../../storage/jobs-repo.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { decodePageToken, encodePageToken, pageSize } from '../pagination.js';
import { projectAccess } from '../projects/access.js';
import { isJobState, type JobState } from './job-state.js';
import { parseJobParent } from './job-names.js';

/** `state = RUNNING`, `state = (PENDING OR RUNNING)`, `node = "nodes/1"`, joined by AND. */
export function parseJobFilter(filter: string): { states?: JobState[]; nodeId?: string } {
  const out: { states?: JobState[]; nodeId?: string } = {};
  if (filter.trim() === '') return out;
  for (const term of filter.split(/\s+AND\s+/i)) {
    const m = /^\s*(state|node)\s*=\s*(.+?)\s*$/.exec(term);
    if (!m) throw new InvalidArgument(`unsupported filter term '${term.trim()}': use state = X, node = "nodes/ID", joined by AND`, { field: 'filter' });
    const value = m[2]!.replace(/^\((.*)\)$/, '$1');
    if (m[1] === 'state') {
      const states = value.split(/\s+OR\s+/i).map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
      for (const s of states) if (!isJobState(s)) throw new InvalidArgument(`unknown job state '${s}'`, { field: 'filter' });
      out.states = states as JobState[];
    } else {
      const node = /^"?nodes\/(\d{1,20})"?$/.exec(value);
      if (!node) throw new InvalidArgument(`node must be "nodes/ID", got ${value}`, { field: 'filter' });
      out.nodeId = node[1];
    }
  }
  return out;
}

export async function listJobs(
  deps: Deps,
  principal: Principal,
  req: { parent: string; pageSize: number; pageToken: string; filter: string; orderBy: string },
): Promise<{ items: jobsRepo.JobRow[]; nextPageToken: string }> {
  const { project, spider } = parseJobParent(req.parent);
  if (req.orderBy.trim() !== '' && !/^create_time desc$/i.test(req.orderBy.trim())) {
    throw new InvalidArgument('order_by supports only "create_time desc"', { field: 'order_by' });
  }
  const f: jobsRepo.JobFilter = parseJobFilter(req.filter);
  if (project) {
    const p = await projectAccess(deps.db, principal, project);
    f.projectId = p.id;
    if (spider) {
      const s = await projectsRepo.findSpider(deps.db, p.id, spider);
      if (!s) return { items: [], nextPageToken: '' };
      f.spiderId = s.id;
    }
  } else if (!principal.admin) {
    const mine = await projectsRepo.listProjects(deps.db, principal.userId ?? '0', '', 100_000);
    f.visibleProjectIds = mine.map((p) => p.id);
  }
  const size = pageSize(req.pageSize);
  const scope = `jobs:${req.parent}:${req.filter}`;
  const after = decodePageToken(req.pageToken, scope);
  const before = after ? (JSON.parse(after) as { createdAt: string; id: string }) : undefined;
  const rows = await jobsRepo.listJobs(deps.db, f, before, size + 1);
  if (rows.length <= size) return { items: rows, nextPageToken: '' };
  const items = rows.slice(0, size);
  const last = items[items.length - 1]!;
  return { items, nextPageToken: encodePageToken(scope, JSON.stringify({ createdAt: last.createTime, id: last.id })) };
}
