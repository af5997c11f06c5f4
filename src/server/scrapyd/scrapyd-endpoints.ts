/** The scrapyd endpoints' bodies, each over the domain services. */
import type { IncomingMessage } from 'node:http';
import type { Deps } from '../../domain/deps.js';
import { projectName, versionName } from '../../domain/names.js';
import * as projects from '../../domain/projects/project-service.js';
import * as spiders from '../../domain/projects/spider-service.js';
import { stageEgg } from '../../domain/projects/staged-egg.js';
import * as versions from '../../domain/projects/version-service.js';
import { checkId } from '../../domain/names.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { collectAll } from '../../domain/pagination.js';
import type { CallContext } from '../call-context.js';
import { readMultipart } from '../http/multipart.js';
import { required } from './scrapyd-io.js';

const NOT_A_ZIP = 'egg is not a ZIP file (if using curl, use egg=@path not egg=path)';

/**
 * addversion.json: multipart project, version, egg; creates the project if
 * needed. Fields may come before or after the file, as with scrapyd.
 */
export async function addVersion(deps: Deps, req: IncomingMessage, url: URL, ctx: CallContext): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) {
    throw new InvalidArgument(`${NOT_A_ZIP}: send multipart/form-data`, { field: 'egg', reason: 'EGG_NOT_ZIP' });
  }
  const form = await readMultipart(req, { fileSize: deps.settings.maxUploadSizeBytes, fields: 20 });
  if (!form.file) {
    const fields = withQuery(await form.done, url);
    // curl -F egg=path sends the path as text, not the file.
    if (fields.has('egg')) throw new InvalidArgument(NOT_A_ZIP, { field: 'egg', reason: 'EGG_NOT_ZIP' });
    required(fields, 'project');
    required(fields, 'version');
    throw new InvalidArgument(`'egg' parameter is required`, { field: 'egg', reason: 'MISSING_PARAMETER' });
  }
  if (form.file.field !== 'egg') {
    form.file.stream.resume();
    throw new InvalidArgument(`unexpected file field '${form.file.field}'; the egg goes in 'egg'`, { field: 'egg' });
  }
  let fields = withQuery(form.fields, url);
  if (fields.has('project') && fields.has('version')) {
    // Check the names before reading the egg, so a bad name costs nothing.
    checkId(required(fields, 'project'), 'project');
    checkId(required(fields, 'version'), 'version');
  }
  const egg = await stageEgg(deps.settings.tmpDir, form.file.stream, deps.settings.maxUploadSizeBytes);
  try {
    fields = withQuery(await form.done, url);
    const project = checkId(required(fields, 'project'), 'project');
    const version = checkId(required(fields, 'version'), 'version');
    const row = await versions.uploadVersion(deps, ctx.principal, { project, version, createProject: true, egg });
    return { project, version, spiders: row.spiders.length };
  } finally {
    await egg.discard();
  }
}

/** Form fields over the query string's (scrapyd reads both). */
function withQuery(fields: URLSearchParams, url: URL): URLSearchParams {
  const merged = new URLSearchParams(fields);
  for (const [k, v] of url.searchParams) if (!merged.has(k)) merged.append(k, v);
  return merged;
}

/** Every name across the pages of a list call (scrapyd lists are not paginated). */
async function allNames(list: (pageToken: string) => Promise<{ items: { name: string }[]; nextPageToken: string }>): Promise<string[]> {
  return (await collectAll(list)).map((item) => item.name);
}

export async function listProjects(deps: Deps, ctx: CallContext): Promise<Record<string, unknown>> {
  return { projects: await allNames((pageToken) => projects.listProjects(deps, ctx.principal, { pageSize: 1000, pageToken })) };
}

export async function listVersions(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = checkId(required(params, 'project'), 'project');
  const parent = projectName(project);
  return { versions: await allNames((pageToken) => versions.listVersions(deps, ctx.principal, { parent, pageSize: 1000, pageToken })) };
}

export async function listSpiders(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = checkId(required(params, 'project'), 'project');
  const version = params.get('_version') ?? '';
  const result = await spiders.listSpiders(deps, ctx.principal, { parent: projectName(project), version });
  return { spiders: result.spiders.map((s) => s.name) };
}

export async function delVersion(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = checkId(required(params, 'project'), 'project');
  const version = checkId(required(params, 'version'), 'version');
  await versions.deleteVersion(deps, ctx.principal, versionName(project, version));
  return {};
}

export async function delProject(deps: Deps, params: URLSearchParams, ctx: CallContext): Promise<Record<string, unknown>> {
  const project = checkId(required(params, 'project'), 'project');
  await projects.deleteProject(deps, ctx.principal, project);
  return {};
}
