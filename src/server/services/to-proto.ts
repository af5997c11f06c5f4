/** Domain rows to API messages (names, string int64s, ISO timestamps). */
import type { Project as ProjectRow } from '../../domain/projects/access.js';
import type { Spider as SpiderRow } from '../../domain/projects/spider-service.js';
import type { Version as VersionRow } from '../../domain/projects/version-service.js';
import { parseSpiderSettings } from '../../domain/projects/spider-settings.js';
import type { ApiKey as ApiKeyRow } from '../../domain/users/api-key-service.js';
import type { User as UserRow } from '../../domain/users/user-service.js';
import { apiKeyName, projectName, spiderName, userName, versionName } from '../../domain/names.js';
import type { Project } from '../../../gen/scrapydd/v1/project.js';
import type { Version } from '../../../gen/scrapydd/v1/version.js';
import type { Spider } from '../../../gen/scrapydd/v1/spider.js';
import type { ApiKey, User } from '../../../gen/scrapydd/v1/user.js';

export function projectToProto(p: ProjectRow): Project {
  return {
    name: projectName(p.name),
    owner: p.ownerName ? userName(p.ownerName) : '',
    latestVersion: p.latestVersion ? versionName(p.name, p.latestVersion) : '',
    versionCount: p.versionCount,
    spiderCount: p.spiderCount,
    createTime: p.createTime,
    updateTime: p.updateTime,
  };
}

export function versionToProto(v: VersionRow): Version {
  return {
    name: versionName(v.project, v.name),
    eggSha256: v.eggSha256,
    eggSizeBytes: String(v.eggSize),
    settingsModule: v.settingsModule,
    spiders: v.spiders,
    creator: v.creatorName ? userName(v.creatorName) : '',
    createTime: v.createTime,
  };
}

export function spiderToProto(s: SpiderRow): Spider {
  return {
    name: spiderName(s.project, s.name),
    latestVersion: s.latestVersion ? versionName(s.project, s.latestVersion) : '',
    missing: s.missing,
    settings: parseSpiderSettings(s.settingsJson),
    createTime: s.createTime,
    updateTime: s.updateTime,
  };
}

export function userToProto(u: UserRow): User {
  return { name: userName(u.username), admin: u.admin, disabled: u.disabled, password: '', createTime: u.createTime };
}

export function apiKeyToProto(k: ApiKeyRow): ApiKey {
  return {
    name: apiKeyName(k.username, k.id),
    displayName: k.displayName,
    secret: k.secret ?? '',
    createTime: k.createTime,
    lastUseTime: k.lastUseTime,
  };
}
