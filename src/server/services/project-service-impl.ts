/** scrapydd.v1.ProjectService over the domain. */
import { ProjectServiceService } from '../../../gen/scrapydd/v1/project.js';
import type { Deps } from '../../domain/deps.js';
import { parseProjectName } from '../../domain/names.js';
import * as projects from '../../domain/projects/project-service.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { bind, type ServiceBinding } from './service-binding.js';
import { projectToProto } from './to-proto.js';

export function projectService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.ProjectService', ProjectServiceService, {
    async createProject(req, ctx) {
      if (req.project?.name && req.project.name !== `projects/${req.projectId}`) {
        throw new InvalidArgument('project.name must be empty or projects/{project_id}', { field: 'project.name' });
      }
      return projectToProto(await projects.createProject(deps, ctx.principal, req.projectId));
    },
    async getProject(req, ctx) {
      return projectToProto(await projects.getProject(deps, ctx.principal, req.name));
    },
    async listProjects(req, ctx) {
      const { items, nextPageToken } = await projects.listProjects(deps, ctx.principal, req);
      return { projects: items.map(projectToProto), nextPageToken };
    },
    async deleteProject(req, ctx) {
      await projects.deleteProject(deps, ctx.principal, parseProjectName(req.name));
      return {};
    },
  });
}
