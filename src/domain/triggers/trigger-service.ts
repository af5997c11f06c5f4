/** Cron triggers of a spider: create, read, list, update, delete, for users who can see the project. */
import type { Principal } from '../../auth/principal.js';
import { AlreadyExists, InvalidArgument, NotFound } from '../../errors/domain-error.js';
import type { Queryable } from '../../storage/database.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import * as repo from '../../storage/triggers-repo.js';
import type { Deps } from '../deps.js';
import { parseSpiderName } from '../names.js';
import { decodePageToken, page, pageSize } from '../pagination.js';
import { projectAccess } from '../projects/access.js';
import { triggersChanged } from './trigger-events.js';
import { checkTriggerInput, type TriggerInput } from './trigger-input.js';
import { parseTriggerName, triggerName } from './trigger-names.js';

export type Trigger = repo.TriggerRow;

/** What a client sends; `enabled` undefined on create means true. */
export type TriggerRequest = Omit<TriggerInput, 'enabled'> & { enabled: boolean | undefined };

/** The fields update_mask may name. */
export const UPDATABLE_FIELDS = ['cron', 'time_zone', 'enabled', 'args', 'scrapy_settings'] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

async function spiderOf(q: Queryable, principal: Principal, project: string, spider: string): Promise<projectsRepo.SpiderRow> {
  const p = await projectAccess(q, principal, project);
  const row = await projectsRepo.findSpider(q, p.id, spider);
  if (!row) throw new NotFound(`spider '${spider}' not found`, { reason: 'SPIDER_NOT_FOUND', metadata: { project, spider } });
  return row;
}

async function triggerOf(q: Queryable, principal: Principal, name: string, field = 'name'): Promise<Trigger> {
  const { project, spider, trigger } = parseTriggerName(name, field);
  const s = await spiderOf(q, principal, project, spider);
  const row = await repo.findTrigger(q, s.id, trigger);
  if (!row) throw new NotFound(`trigger '${name}' not found`, { reason: 'TRIGGER_NOT_FOUND', metadata: { trigger: name } });
  return row;
}

function duplicateOf(existing: Trigger): AlreadyExists {
  const name = triggerName(existing.project, existing.spider, existing.id);
  return new AlreadyExists(`an identical trigger exists: ${name} (same cron, time zone, args and settings)`, {
    reason: 'TRIGGER_EXISTS', metadata: { trigger: name },
  });
}

export async function createTrigger(deps: Deps, principal: Principal, parent: string, input: TriggerRequest, now = new Date()): Promise<Trigger> {
  const { project, spider } = parseSpiderName(parent, 'parent');
  const s = await spiderOf(deps.db, principal, project, spider);
  const fields = checkTriggerInput({ ...input, enabled: input.enabled ?? true }, deps.settings.timeZone, now);
  const id = deps.ids.next();
  if (!(await repo.insertTrigger(deps.db, { ...fields, id, spiderId: s.id }))) {
    const existing = await repo.findTriggerByDedupeKey(deps.db, s.id, fields.dedupeKey);
    if (existing) throw duplicateOf(existing);
    throw new AlreadyExists('an identical trigger exists', { reason: 'TRIGGER_EXISTS' });
  }
  deps.logger.info({ trigger: id, project, spider, cron: fields.cron, timeZone: fields.timeZone, by: principal.username }, 'trigger created');
  triggersChanged();
  return (await repo.findTrigger(deps.db, s.id, id))!;
}

export async function getTrigger(deps: Deps, principal: Principal, name: string): Promise<Trigger> {
  return triggerOf(deps.db, principal, name);
}

export async function listTriggers(
  deps: Deps,
  principal: Principal,
  req: { parent: string; pageSize: number; pageToken: string },
): Promise<{ items: Trigger[]; nextPageToken: string }> {
  const { project, spider } = parseSpiderName(req.parent, 'parent');
  const size = pageSize(req.pageSize);
  const after = decodePageToken(req.pageToken, `triggers:${req.parent}`);
  const s = await spiderOf(deps.db, principal, project, spider);
  const rows = await repo.listTriggers(deps.db, s.id, after, size + 1);
  return page(rows, size, `triggers:${req.parent}`, (t) => t.id);
}

/** What happened at a fire time, with the trigger's project and spider names for the job's name. */
export type TriggerFire = repo.FireListRow & { project: string; spider: string };

/** A trigger's fire records, newest first (kept 30 days, and the newest 100 always). */
export async function listTriggerFires(
  deps: Deps,
  principal: Principal,
  req: { parent: string; pageSize: number; pageToken: string },
): Promise<{ items: TriggerFire[]; nextPageToken: string }> {
  const size = pageSize(req.pageSize);
  const scope = `fires:${req.parent}`;
  const before = decodePageToken(req.pageToken, scope);
  if (before !== undefined && Number.isNaN(Date.parse(before))) throw new InvalidArgument('page_token is not valid for this request', { field: 'page_token' });
  const t = await triggerOf(deps.db, principal, req.parent, 'parent');
  const rows = await repo.listFirePage(deps.db, t.id, before, size + 1);
  const { items, nextPageToken } = page(rows, size, scope, (f) => f.fireTime);
  return { items: items.map((f) => ({ ...f, project: t.project, spider: t.spider })), nextPageToken };
}

/**
 * Updates the fields `mask` names. A changed schedule (cron, zone, enabled)
 * gets a new next fire time after `now`; otherwise the pending one stays.
 */
export async function updateTrigger(
  deps: Deps,
  principal: Principal,
  name: string,
  input: TriggerRequest,
  mask: readonly UpdatableField[],
  now = new Date(),
): Promise<Trigger> {
  const current = await triggerOf(deps.db, principal, name, 'trigger.name');
  if (mask.length === 0) throw new InvalidArgument(`update_mask is required: ${UPDATABLE_FIELDS.join(', ')}`, { field: 'update_mask' });
  const has = (f: UpdatableField) => mask.includes(f);
  const merged = {
    cron: has('cron') ? input.cron : current.cron,
    timeZone: has('time_zone') ? input.timeZone : current.timeZone,
    enabled: has('enabled') ? (input.enabled ?? false) : current.enabled,
    args: has('args') ? input.args : current.args,
    settings: has('scrapy_settings') ? input.settings : current.settings,
  };
  const fields = checkTriggerInput(merged, deps.settings.timeZone, now);
  const scheduleSame = fields.cron === current.cron && fields.timeZone === current.timeZone && fields.enabled === current.enabled;
  if (scheduleSame && current.nextFireTime !== undefined) fields.nextFireTime = current.nextFireTime;
  if (!(await repo.updateTrigger(deps.db, current.id, fields))) {
    const existing = await repo.findTriggerByDedupeKey(deps.db, current.spiderId, fields.dedupeKey);
    if (existing && existing.id !== current.id) throw duplicateOf(existing);
    throw new NotFound(`trigger '${name}' not found`, { reason: 'TRIGGER_NOT_FOUND' });
  }
  deps.logger.info({ trigger: current.id, mask, by: principal.username }, 'trigger updated');
  triggersChanged();
  return (await repo.findTrigger(deps.db, current.spiderId, current.id))!;
}

export async function deleteTrigger(deps: Deps, principal: Principal, name: string): Promise<void> {
  const current = await triggerOf(deps.db, principal, name);
  if (!(await repo.deleteTrigger(deps.db, current.spiderId, current.id))) {
    throw new NotFound(`trigger '${name}' not found`, { reason: 'TRIGGER_NOT_FOUND' });
  }
  deps.logger.info({ trigger: current.id, by: principal.username }, 'trigger deleted');
  triggersChanged();
}
