/**
 * Resource names (AIP-122) and the ids inside them. Ids of projects, versions,
 * spiders and jobs are what Scrapy and scrapyd clients use, so they are
 * restricted to [A-Za-z0-9_.-]: they end up in paths and must never escape
 * them (`..` and `.` are refused).
 */
import { InvalidArgument } from '../errors/domain-error.js';

const ID = /^[A-Za-z0-9_.-]{1,100}$/;
const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checks a user-chosen id (project, version, spider, job); `what` names it in errors. */
export function checkId(value: string, what: string, field = what): string {
  if (!ID.test(value) || /^\.+$/.test(value)) {
    throw new InvalidArgument(
      `${what} '${value}' is not valid: use 1-100 of A-Z a-z 0-9 _ . - (and not only dots)`,
      { field, reason: 'INVALID_NAME' },
    );
  }
  return value;
}

export function checkUserId(value: string, field = 'user_id'): string {
  if (!USER_ID.test(value) || /^\.+$/.test(value) || value === 'me') {
    throw new InvalidArgument(`user name '${value}' is not valid: use 1-64 of A-Z a-z 0-9 _ . -`, {
      field,
      reason: 'INVALID_NAME',
    });
  }
  return value;
}

/**
 * Splits `name` by the pattern `collection/{id}/collection/{id}...` and
 * returns the ids; throws INVALID_ARGUMENT naming `field` when it does not fit.
 */
export function parseName(name: string, collections: readonly string[], field = 'name'): string[] {
  const parts = name.split('/');
  const ok =
    parts.length === collections.length * 2 &&
    collections.every((c, i) => parts[i * 2] === c && (parts[i * 2 + 1] ?? '') !== '');
  if (!ok) {
    const pattern = collections.map((c) => `${c}/{${c.replace(/s$/, '')}}`).join('/');
    throw new InvalidArgument(`${field} '${name}' is not a valid resource name; expected ${pattern}`, {
      field,
      reason: 'INVALID_NAME',
    });
  }
  return collections.map((_, i) => parts[i * 2 + 1]!);
}

export const projectName = (project: string) => `projects/${project}`;
export const versionName = (project: string, version: string) => `projects/${project}/versions/${version}`;
export const spiderName = (project: string, spider: string) => `projects/${project}/spiders/${spider}`;
export const userName = (user: string) => `users/${user}`;
export const apiKeyName = (user: string, key: string) => `users/${user}/apiKeys/${key}`;

export function parseProjectName(name: string, field = 'name'): string {
  const [project] = parseName(name, ['projects'], field);
  return checkId(project!, 'project', field);
}

export function parseVersionName(name: string, field = 'name'): { project: string; version: string } {
  const [project, version] = parseName(name, ['projects', 'versions'], field);
  return { project: checkId(project!, 'project', field), version: checkId(version!, 'version', field) };
}

export function parseSpiderName(name: string, field = 'name'): { project: string; spider: string } {
  const [project, spider] = parseName(name, ['projects', 'spiders'], field);
  return { project: checkId(project!, 'project', field), spider: checkId(spider!, 'spider', field) };
}

export function parseUserName(name: string, field = 'name'): string {
  const [user] = parseName(name, ['users'], field);
  return user!;
}

export function parseApiKeyName(name: string, field = 'name'): { user: string; key: string } {
  const [user, key] = parseName(name, ['users', 'apiKeys'], field);
  if (!/^\d{1,20}$/.test(key!)) throw new InvalidArgument(`api key id '${key}' is not valid`, { field });
  return { user: user!, key: key! };
}
