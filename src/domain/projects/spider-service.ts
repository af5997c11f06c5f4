/** Spiders of a project: those of its latest version, or of a given one. */
import type { Principal } from '../../auth/principal.js';
import { NotFound } from '../../errors/domain-error.js';
import * as repo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { checkId, parseName, parseProjectName, parseSpiderName } from '../names.js';
import { accessibleProject } from './access.js';

export type Spider = repo.SpiderRow;

/** `version` is empty (latest), a version id, or projects/{p}/versions/{v}. */
export async function listSpiders(
  deps: Deps,
  principal: Principal,
  req: { parent: string; version: string },
): Promise<{ version: repo.VersionRow | undefined; spiders: Spider[] }> {
  const project = parseProjectName(req.parent, 'parent');
  const p = await accessibleProject(deps.db, principal, project);
  let version: repo.VersionRow | undefined;
  if (req.version === '') {
    version = await repo.latestVersion(deps.db, p.id);
  } else {
    const id = req.version.includes('/')
      ? parseName(req.version, ['projects', 'versions'], 'version')[1]!
      : checkId(req.version, 'version');
    version = await repo.findVersion(deps.db, p.id, id);
    if (!version) throw new NotFound(`version '${id}' not found`, { reason: 'VERSION_NOT_FOUND' });
  }
  if (!version) return { version, spiders: [] };
  const rows = new Map((await repo.listSpiderRows(deps.db, p.id, version.spiders)).map((r) => [r.name, r]));
  // Every spider of the version, even one whose row predates it.
  const spiders = version.spiders.map(
    (name): Spider =>
      rows.get(name) ?? {
        id: '0', projectId: p.id, project, name, settingsJson: '{}', latestVersion: version.name,
        missing: false, createTime: version.createTime, updateTime: version.createTime,
      },
  );
  return { version, spiders };
}

export async function getSpider(deps: Deps, principal: Principal, name: string): Promise<Spider> {
  const { project, spider } = parseSpiderName(name);
  const p = await accessibleProject(deps.db, principal, project);
  const row = await repo.findSpider(deps.db, p.id, spider);
  if (!row) throw new NotFound(`spider '${spider}' not found`, { reason: 'SPIDER_NOT_FOUND' });
  return row;
}
