/** Spiders of a project: those of its latest version, or of a given one. */
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument, NotFound } from '../../errors/domain-error.js';
import { checkSpiderSettings, parseSpiderSettings, UPDATABLE_SETTINGS, type SpiderSettings } from './spider-settings.js';
import * as repo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';
import { checkId, parseName, parseProjectName, parseSpiderName } from '../names.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { projectAccess } from './access.js';

export type Spider = repo.SpiderRow;

/** `version` is empty (latest), a version id, or projects/{p}/versions/{v}. */
export async function listSpiders(
  deps: Deps,
  principal: Principal,
  req: { parent: string; version: string },
): Promise<{ version: repo.VersionRow | undefined; spiders: Spider[] }> {
  const project = parseProjectName(req.parent, 'parent');
  const p = await projectAccess(deps.db, principal, project);
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

/** A page of listSpiders, by name (AIP-158: page_size default 50, at most 1000). */
export async function listSpiderPage(
  deps: Deps,
  principal: Principal,
  req: { parent: string; version: string; pageSize: number; pageToken: string },
): Promise<{ items: Spider[]; nextPageToken: string }> {
  const size = pageSize(req.pageSize);
  const scope = `spiders:${req.parent}:${req.version}`;
  const after = decodePageToken(req.pageToken, scope);
  const { spiders } = await listSpiders(deps, principal, req);
  const sorted = [...spiders].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((s) => s.name > after);
  return page(rest.slice(0, size + 1), size, scope, (s) => s.name);
}

export async function getSpider(deps: Deps, principal: Principal, name: string): Promise<Spider> {
  const { project, spider } = parseSpiderName(name);
  const p = await projectAccess(deps.db, principal, project);
  const row = await repo.findSpider(deps.db, p.id, spider);
  if (!row) throw new NotFound(`spider '${spider}' not found`, { reason: 'SPIDER_NOT_FOUND' });
  return row;
}

/** Updates the settings named by `mask` (e.g. settings.tag, settings.concurrency, or settings for all). */
export async function updateSpiderSettings(deps: Deps, principal: Principal, name: string, input: SpiderSettings, mask: string[]): Promise<Spider> {
  const { project, spider } = parseSpiderName(name, 'spider.name');
  const p = await projectAccess(deps.db, principal, project);
  const row = await repo.findSpider(deps.db, p.id, spider);
  if (!row) throw new NotFound(`spider '${spider}' not found`, { reason: 'SPIDER_NOT_FOUND' });
  if (mask.length === 0) throw new InvalidArgument('update_mask is required, e.g. settings.tag,settings.concurrency', { field: 'update_mask' });
  const next = parseSpiderSettings(row.settingsJson);
  const camel = (f: string) => f.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof SpiderSettings;
  for (const path of mask) {
    const fields = path === 'settings' ? UPDATABLE_SETTINGS : [path.replace(/^settings\./, '')];
    for (const f of fields) {
      if (!path.startsWith('settings') || !(UPDATABLE_SETTINGS as readonly string[]).includes(f)) {
        throw new InvalidArgument(`'${path}' cannot be updated; use settings.<field>`, { field: 'update_mask' });
      }
      (next as unknown as Record<string, unknown>)[camel(f)] = input[camel(f)];
    }
  }
  const problem = checkSpiderSettings(next);
  if (problem) throw new InvalidArgument(problem, { field: 'spider.settings' });
  await repo.updateSpiderSettings(deps.db, row.id, JSON.stringify(next));
  deps.events.capacityFreed(); // a higher concurrency may free work
  return (await repo.findSpider(deps.db, p.id, spider))!;
}
