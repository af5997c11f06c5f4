/** Who may see and change a project: its owner and admins. */
import type { Principal } from '../../auth/principal.js';
import { NotFound, PermissionDenied } from '../../errors/domain-error.js';
import * as repo from '../../storage/projects-repo.js';
import type { Queryable } from '../../storage/database.js';

export type Project = repo.ProjectRow;

export function canAccess(principal: Principal, project: Pick<Project, 'ownerId'>): boolean {
  return principal.admin || (project.ownerId !== undefined && project.ownerId === principal.userId);
}

/**
 * The project named `project` if the caller may use it. Unknown projects are
 * NOT_FOUND with scrapyd's wording; other users' projects PERMISSION_DENIED.
 */
export async function accessibleProject(q: Queryable, principal: Principal, project: string): Promise<Project> {
  return checkProjectAccess(principal, project, await repo.findProject(q, project));
}

export type ProjectRef = repo.ProjectRef;

/** Like accessibleProject, with only the project's id, name and owner (one light query: for hot paths). */
export async function projectAccess(q: Queryable, principal: Principal, project: string): Promise<ProjectRef> {
  return checkProjectAccess(principal, project, await repo.findProjectRef(q, project));
}

/** `row` (the project named `project`, if found) when the caller may use it; the errors of accessibleProject otherwise. */
export function checkProjectAccess<T extends Pick<Project, 'ownerId'>>(principal: Principal, project: string, row: T | undefined): T {
  if (!row) throw new NotFound(`project '${project}' not found`, { reason: 'PROJECT_NOT_FOUND', metadata: { project } });
  if (!canAccess(principal, row)) {
    throw new PermissionDenied(`you have no access to project '${project}'`, { metadata: { project } });
  }
  return row;
}
