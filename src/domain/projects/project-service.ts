/** Projects: create, get, list, delete (with their versions, spiders and eggs). */
import type { Principal } from '../../auth/principal.js';
import { AlreadyExists } from '../../errors/domain-error.js';
import * as repo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { checkId, parseProjectName } from '../names.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { accessibleProject, type Project } from './access.js';
import { collectEggs } from './egg-garbage.js';

export async function createProject(deps: Deps, principal: Principal, projectId: string): Promise<Project> {
  checkId(projectId, 'project', 'project_id');
  const inserted = await repo.insertProject(deps.db, { id: deps.ids.next(), name: projectId, ownerId: principal.userId });
  if (!inserted) throw new AlreadyExists(`project '${projectId}' already exists`, { field: 'project_id' });
  deps.logger.info({ project: projectId, by: principal.username }, 'project created');
  return (await repo.findProject(deps.db, projectId))!;
}

export async function getProject(deps: Deps, principal: Principal, name: string): Promise<Project> {
  return accessibleProject(deps.db, principal, parseProjectName(name));
}

/** Projects the caller can see (all of them for admins), by name. */
export async function listProjects(
  deps: Deps,
  principal: Principal,
  req: { pageSize: number; pageToken: string },
): Promise<{ items: Project[]; nextPageToken: string }> {
  const size = pageSize(req.pageSize);
  const after = decodePageToken(req.pageToken, 'projects') ?? '';
  const ownerId = principal.admin ? undefined : (principal.userId ?? '0');
  const rows = await repo.listProjects(deps.db, ownerId, after, size + 1);
  return page(rows, size, 'projects', (p) => p.name);
}

export async function deleteProject(deps: Deps, principal: Principal, project: string): Promise<void> {
  const eggs = await deps.db.transaction(async (tx) => {
    const row = await accessibleProject(tx, principal, project);
    return repo.deleteProject(tx, row.id);
  });
  deps.logger.info({ project, by: principal.username }, 'project deleted');
  await collectEggs(deps, eggs);
}
