/** SQL for projects, versions and spiders. */
import type { Queryable, Row } from './database.js';
import { boolParam, idString, nowParam, optionalId, toBool, toIso, toNumber } from './sql-dialect.js';

export interface ProjectRow {
  id: string;
  name: string;
  ownerId: string | undefined;
  ownerName: string | undefined;
  latestVersion: string | undefined;
  versionCount: number;
  /** Spiders not marked missing, i.e. in the latest version. */
  spiderCount: number;
  createTime: string;
  updateTime: string;
}

export interface VersionRow {
  id: string;
  projectId: string;
  project: string;
  name: string;
  eggSha256: string;
  eggSize: number;
  settingsModule: string;
  spiders: string[];
  creatorName: string | undefined;
  createTime: string;
}

export interface SpiderRow {
  id: string;
  projectId: string;
  project: string;
  name: string;
  settingsJson: string;
  latestVersion: string | undefined;
  missing: boolean;
  createTime: string;
  updateTime: string;
}

// The latest version is the newest upload: versions are ordered by
// (created_at, id) everywhere, oldest first, as scrapyd lists them.
const PROJECT_SELECT = `SELECT p.id, p.name, p.owner_id, u.username AS owner_name, p.created_at, p.updated_at,
    (SELECT v.name FROM versions v WHERE v.project_id = p.id ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS latest_version,
    (SELECT COUNT(*) FROM versions v WHERE v.project_id = p.id) AS version_count,
    (SELECT COUNT(*) FROM spiders s WHERE s.project_id = p.id AND s.missing = FALSE) AS spider_count
  FROM projects p LEFT JOIN users u ON u.id = p.owner_id`;

function projectRow(r: Row): ProjectRow {
  return {
    id: idString(r.id),
    name: String(r.name),
    ownerId: optionalId(r.owner_id),
    ownerName: r.owner_name == null ? undefined : String(r.owner_name),
    latestVersion: r.latest_version == null ? undefined : String(r.latest_version),
    versionCount: toNumber(r.version_count),
    spiderCount: toNumber(r.spider_count),
    createTime: toIso(r.created_at)!,
    updateTime: toIso(r.updated_at)!,
  };
}

const VERSION_SELECT = `SELECT v.id, v.project_id, p.name AS project, v.name, v.egg_sha256, v.egg_size, v.settings_module,
    v.spiders_json, u.username AS creator_name, v.created_at
  FROM versions v JOIN projects p ON p.id = v.project_id LEFT JOIN users u ON u.id = v.creator_id`;

function versionRow(r: Row): VersionRow {
  return {
    id: idString(r.id),
    projectId: idString(r.project_id),
    project: String(r.project),
    name: String(r.name),
    eggSha256: String(r.egg_sha256),
    eggSize: toNumber(r.egg_size),
    settingsModule: String(r.settings_module),
    spiders: JSON.parse(String(r.spiders_json)) as string[],
    creatorName: r.creator_name == null ? undefined : String(r.creator_name),
    createTime: toIso(r.created_at)!,
  };
}

const SPIDER_SELECT = `SELECT s.id, s.project_id, p.name AS project, s.name, s.settings_json, v.name AS latest_version,
    s.missing, s.created_at, s.updated_at
  FROM spiders s JOIN projects p ON p.id = s.project_id LEFT JOIN versions v ON v.id = s.latest_version_id`;

function spiderRow(r: Row): SpiderRow {
  return {
    id: idString(r.id),
    projectId: idString(r.project_id),
    project: String(r.project),
    name: String(r.name),
    settingsJson: String(r.settings_json),
    latestVersion: r.latest_version == null ? undefined : String(r.latest_version),
    missing: toBool(r.missing),
    createTime: toIso(r.created_at)!,
    updateTime: toIso(r.updated_at)!,
  };
}

export interface ProjectRef {
  id: string;
  name: string;
  ownerId: string | undefined;
}

export async function findProjectRef(q: Queryable, name: string): Promise<ProjectRef | undefined> {
  const r = (await q.query(`SELECT id, name, owner_id FROM projects WHERE name = ?`, [name]))[0];
  return r ? { id: idString(r.id), name: String(r.name), ownerId: optionalId(r.owner_id) } : undefined;
}

/** What running a spider needs: the project, the version to run and the spider's row. */
export interface RunTarget {
  project: ProjectRef;
  version: Pick<VersionRow, 'name' | 'eggSha256' | 'eggSize' | 'settingsModule' | 'spiders'> | undefined;
  spider: Pick<SpiderRow, 'id' | 'settingsJson'> | undefined;
}

export interface RunWanted {
  project: string;
  spider: string;
  /** A version name; empty for the latest. */
  version: string;
}

/**
 * For each wanted run, in one query however many: its project (undefined
 * when there is none), the version (the latest when none is named) and the
 * spider's row.
 */
export async function findRunTargets(q: Queryable, wanted: readonly RunWanted[]): Promise<(RunTarget | undefined)[]> {
  if (wanted.length === 0) return [];
  const rows = await q.query(
    `WITH want(w_i, w_project, w_spider, w_version) AS (VALUES ${wanted.map(() => '(CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))').join(', ')})
     SELECT want.w_i, p.id, p.name, p.owner_id, s.id AS spider_id, s.settings_json,
       v.name AS version_name, v.egg_sha256, v.egg_size, v.settings_module, v.spiders_json
     FROM want
     JOIN projects p ON p.name = want.w_project
     LEFT JOIN spiders s ON s.project_id = p.id AND s.name = want.w_spider
     LEFT JOIN versions v ON v.id = (
       SELECT v2.id FROM versions v2 WHERE v2.project_id = p.id AND (want.w_version = '' OR v2.name = want.w_version)
       ORDER BY v2.created_at DESC, v2.id DESC LIMIT 1)`,
    wanted.flatMap((w, i) => [i, w.project, w.spider, w.version]),
  );
  const found = new Array<RunTarget | undefined>(wanted.length).fill(undefined);
  for (const r of rows) {
    found[toNumber(r.w_i)] = {
      project: { id: idString(r.id), name: String(r.name), ownerId: optionalId(r.owner_id) },
      version:
        r.version_name == null
          ? undefined
          : {
              name: String(r.version_name),
              eggSha256: String(r.egg_sha256),
              eggSize: toNumber(r.egg_size),
              settingsModule: String(r.settings_module),
              spiders: JSON.parse(String(r.spiders_json)) as string[],
            },
      spider: r.spider_id == null ? undefined : { id: idString(r.spider_id), settingsJson: String(r.settings_json) },
    };
  }
  return found;
}

export async function findProject(q: Queryable, name: string): Promise<ProjectRow | undefined> {
  return (await q.query(`${PROJECT_SELECT} WHERE p.name = ?`, [name])).map(projectRow)[0];
}

/** Projects after `afterName` by name; `ownerId` limits them to one owner. */
export async function listProjects(q: Queryable, ownerId: string | undefined, afterName: string, limit: number): Promise<ProjectRow[]> {
  const rows = ownerId
    ? await q.query(`${PROJECT_SELECT} WHERE p.owner_id = ? AND p.name > ? ORDER BY p.name LIMIT ?`, [ownerId, afterName, limit])
    : await q.query(`${PROJECT_SELECT} WHERE p.name > ? ORDER BY p.name LIMIT ?`, [afterName, limit]);
  return rows.map(projectRow);
}

/** Inserts a project unless one of that name exists; returns whether it inserted. */
export async function insertProject(q: Queryable, p: { id: string; name: string; ownerId: string | undefined }): Promise<boolean> {
  const now = nowParam();
  const rows = await q.query(
    `INSERT INTO projects (id, name, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO NOTHING RETURNING id`,
    [p.id, p.name, p.ownerId ?? null, now, now],
  );
  return rows.length > 0;
}

export async function touchProject(q: Queryable, projectId: string): Promise<void> {
  await q.query(`UPDATE projects SET updated_at = ? WHERE id = ?`, [nowParam(), projectId]);
}

/** Deletes a project; versions and spiders go with it (ON DELETE CASCADE). Returns the egg hashes it held. */
export async function deleteProject(q: Queryable, projectId: string): Promise<string[]> {
  const eggs = await q.query(`SELECT DISTINCT egg_sha256 FROM versions WHERE project_id = ?`, [projectId]);
  await q.query(`DELETE FROM projects WHERE id = ?`, [projectId]);
  return eggs.map((r) => String(r.egg_sha256));
}

export async function findVersion(q: Queryable, projectId: string, name: string): Promise<VersionRow | undefined> {
  return (await q.query(`${VERSION_SELECT} WHERE v.project_id = ? AND v.name = ?`, [projectId, name])).map(versionRow)[0];
}

export async function latestVersion(q: Queryable, projectId: string): Promise<VersionRow | undefined> {
  return (
    await q.query(`${VERSION_SELECT} WHERE v.project_id = ? ORDER BY v.created_at DESC, v.id DESC LIMIT 1`, [projectId])
  ).map(versionRow)[0];
}

/** Versions oldest first; `offset` paging keeps the (created_at, id) order simple. */
export async function listVersions(q: Queryable, projectId: string, offset: number, limit: number): Promise<VersionRow[]> {
  return (
    await q.query(`${VERSION_SELECT} WHERE v.project_id = ? ORDER BY v.created_at, v.id LIMIT ? OFFSET ?`, [
      projectId,
      limit,
      offset,
    ])
  ).map(versionRow);
}

/**
 * Stores a version. Uploading a version id again replaces the old upload and
 * makes it the latest (new id and time), as scrapyd's addversion does.
 * Returns the replaced upload's egg hash, for garbage collection.
 */
export async function replaceVersion(
  q: Queryable,
  v: { id: string; projectId: string; name: string; eggSha256: string; eggSize: number; settingsModule: string; spiders: string[]; creatorId: string | undefined },
): Promise<string | undefined> {
  const replaced = await q.query(`SELECT egg_sha256 FROM versions WHERE project_id = ? AND name = ?`, [v.projectId, v.name]);
  await q.query(`DELETE FROM versions WHERE project_id = ? AND name = ?`, [v.projectId, v.name]);
  await q.query(
    `INSERT INTO versions (id, project_id, name, egg_sha256, egg_size, settings_module, spiders_json, creator_id, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [v.id, v.projectId, v.name, v.eggSha256, v.eggSize, v.settingsModule, JSON.stringify(v.spiders), v.creatorId ?? null, nowParam()],
  );
  return replaced[0] === undefined ? undefined : String(replaced[0].egg_sha256);
}

export async function deleteVersion(q: Queryable, versionId: string): Promise<void> {
  await q.query(`DELETE FROM versions WHERE id = ?`, [versionId]);
}

export async function countVersions(q: Queryable, projectId: string): Promise<number> {
  const rows = await q.query(`SELECT COUNT(*) AS n FROM versions WHERE project_id = ?`, [projectId]);
  return toNumber(rows[0]?.n);
}

export async function eggInUse(q: Queryable, sha256: string): Promise<boolean> {
  return (await q.query(`SELECT 1 AS one FROM versions WHERE egg_sha256 = ? LIMIT 1`, [sha256])).length > 0;
}

/**
 * Brings the spiders table in line with the project's latest version: every
 * spider of it exists and points at it; spiders no longer in it are marked
 * missing (their settings and history stay).
 */
export async function syncSpiders(q: Queryable, projectId: string, newId: () => string): Promise<void> {
  const latest = await latestVersion(q, projectId);
  const names = latest?.spiders ?? [];
  const now = nowParam();
  for (const name of names) {
    await q.query(
      `INSERT INTO spiders (id, project_id, name, latest_version_id, missing, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project_id, name) DO UPDATE SET latest_version_id = excluded.latest_version_id, missing = excluded.missing`,
      [newId(), projectId, name, latest!.id, boolParam(q.kind, false), now, now],
    );
  }
  const existing = await q.query(`SELECT id, name FROM spiders WHERE project_id = ?`, [projectId]);
  for (const r of existing) {
    if (!names.includes(String(r.name))) {
      await q.query(`UPDATE spiders SET missing = ? WHERE id = ?`, [boolParam(q.kind, true), idString(r.id)]);
    }
  }
}

export async function findSpider(q: Queryable, projectId: string, name: string): Promise<SpiderRow | undefined> {
  return (await q.query(`${SPIDER_SELECT} WHERE s.project_id = ? AND s.name = ?`, [projectId, name])).map(spiderRow)[0];
}

export async function listSpiderRows(q: Queryable, projectId: string, names: string[]): Promise<SpiderRow[]> {
  const rows = (await q.query(`${SPIDER_SELECT} WHERE s.project_id = ? ORDER BY s.name`, [projectId])).map(spiderRow);
  const wanted = new Set(names);
  return rows.filter((r) => wanted.has(r.name));
}

/** Stores a spider's settings; `concurrency` also goes to its own column, which the claim filters by. */
export async function updateSpiderSettings(q: Queryable, spiderId: string, settingsJson: string): Promise<void> {
  const { concurrency } = JSON.parse(settingsJson) as { concurrency?: number };
  await q.query(`UPDATE spiders SET settings_json = ?, concurrency = ?, updated_at = ? WHERE id = ?`, [
    settingsJson, Math.max(1, concurrency ?? 1), nowParam(), spiderId,
  ]);
}
