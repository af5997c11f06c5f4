/** Versions: upload (check, list spiders, store once), list, get, delete. */
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument, NotFound } from '../../errors/domain-error.js';
import { listSpiders } from '../../runner/spider-lister.js';
import * as repo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { checkId, parseProjectName, parseVersionName } from '../names.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { accessibleProject, projectAccess } from './access.js';
import { DEFAULT_EGG_LIMITS, inspectEgg } from './egg-inspector.js';
import { collectEggs } from './egg-garbage.js';
import type { StagedEgg } from './staged-egg.js';

export type Version = repo.VersionRow;

export interface UploadInput {
  project: string;
  version: string;
  /** Create the project when missing (scrapyd's addversion does). */
  createProject: boolean;
  egg: StagedEgg;
  expectedSha256?: string;
  expectedSize?: number;
}

/**
 * Checks the egg (zip, scrapy entry point, spiders import), then stores it
 * and the version in one transaction. A bad egg stores nothing.
 */
export async function uploadVersion(deps: Deps, principal: Principal, input: UploadInput): Promise<Version> {
  const { egg } = input;
  try {
    checkId(input.project, 'project', 'project');
    checkId(input.version, 'version', 'version');
    if (input.expectedSha256 && input.expectedSha256.toLowerCase() !== egg.sha256) {
      throw new InvalidArgument('egg does not match the given sha256', { field: 'sha256', reason: 'CHECKSUM_MISMATCH' });
    }
    if (input.expectedSize && input.expectedSize !== egg.size) {
      throw new InvalidArgument(`egg has ${egg.size} bytes, not the given ${input.expectedSize}`, { field: 'size_bytes', reason: 'SIZE_MISMATCH' });
    }
    const existing = await repo.findProjectRef(deps.db, input.project);
    if (existing) await projectAccess(deps.db, principal, input.project);
    else if (!input.createProject) throw new NotFound(`project '${input.project}' not found`, { reason: 'PROJECT_NOT_FOUND' });

    const info = await inspectEgg(egg.path, DEFAULT_EGG_LIMITS);
    const { runnerContainer, runnerPython, spiderListTimeoutMs: timeoutMs } = deps.settings;
    const spiders = await listSpiders(egg.path, runnerContainer ? { container: runnerContainer, timeoutMs } : { python: runnerPython, timeoutMs });
    await deps.blobs.putFile(egg.path, egg.sha256);

    let replacedEgg: string | undefined;
    const version = await deps.db.transaction(async (tx) => {
      await repo.insertProject(tx, { id: deps.ids.next(), name: input.project, ownerId: principal.userId });
      const project = await accessibleProject(tx, principal, input.project);
      replacedEgg = await repo.replaceVersion(tx, {
        id: deps.ids.next(),
        projectId: project.id,
        name: input.version,
        eggSha256: egg.sha256,
        eggSize: egg.size,
        settingsModule: info.settingsModule,
        spiders,
        creatorId: principal.userId,
      });
      await repo.syncSpiders(tx, project.id, () => deps.ids.next());
      await repo.touchProject(tx, project.id);
      return (await repo.findVersion(tx, project.id, input.version))!;
    });
    deps.logger.info(
      { project: input.project, version: input.version, sha256: egg.sha256, spiders: spiders.length, by: principal.username },
      'version uploaded',
    );
    if (replacedEgg !== undefined && replacedEgg !== egg.sha256) await collectEggs(deps, [replacedEgg]);
    return version;
  } finally {
    await egg.discard();
  }
}

export async function getVersion(deps: Deps, principal: Principal, name: string): Promise<Version> {
  const { project, version } = parseVersionName(name);
  const p = await projectAccess(deps.db, principal, project);
  const row = await repo.findVersion(deps.db, p.id, version);
  if (!row) throw new NotFound(`version '${version}' not found`, { reason: 'VERSION_NOT_FOUND' });
  return row;
}

/** A project's versions, oldest first. */
export async function listVersions(
  deps: Deps,
  principal: Principal,
  req: { parent: string; pageSize: number; pageToken: string },
): Promise<{ items: Version[]; nextPageToken: string }> {
  const project = parseProjectName(req.parent, 'parent');
  const p = await projectAccess(deps.db, principal, project);
  const size = pageSize(req.pageSize);
  const scope = `versions:${p.id}`;
  const offset = Number(decodePageToken(req.pageToken, scope) ?? '0');
  const rows = await repo.listVersions(deps.db, p.id, offset, size + 1);
  return page(rows, size, scope, () => String(offset + size));
}

/** Deletes a version; the project goes with its last version, as in scrapyd. */
export async function deleteVersion(deps: Deps, principal: Principal, name: string): Promise<{ projectDeleted: boolean }> {
  const { project, version } = parseVersionName(name);
  const result = await deps.db.transaction(async (tx) => {
    const p = await accessibleProject(tx, principal, project);
    const row = await repo.findVersion(tx, p.id, version);
    if (!row) throw new NotFound(`version '${version}' not found`, { reason: 'VERSION_NOT_FOUND' });
    await repo.deleteVersion(tx, row.id);
    if ((await repo.countVersions(tx, p.id)) === 0) {
      await repo.deleteProject(tx, p.id);
      return { projectDeleted: true, eggs: [row.eggSha256] };
    }
    await repo.syncSpiders(tx, p.id, () => deps.ids.next());
    return { projectDeleted: false, eggs: [row.eggSha256] };
  });
  deps.logger.info({ project, version, projectDeleted: result.projectDeleted, by: principal.username }, 'version deleted');
  await collectEggs(deps, result.eggs);
  return { projectDeleted: result.projectDeleted };
}
