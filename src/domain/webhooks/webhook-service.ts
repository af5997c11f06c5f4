/**
 * A spider's webhook: get, set, delete, for the callers who may use the
 * spider's project. Setting replaces the URL (deliveries that have not sent
 * anything yet follow it); deleting cancels the open deliveries.
 */
import type { Principal } from '../../auth/principal.js';
import { InvalidArgument, NotFound } from '../../errors/domain-error.js';
import * as projectsRepo from '../../storage/projects-repo.js';
import * as repo from '../../storage/webhooks-repo.js';
import type { Deps } from '../deps.js';
import { parseSpiderName, spiderName } from '../names.js';
import { projectAccess } from '../projects/access.js';
import { checkPayloadUrl } from './payload-url.js';
import { DEFAULT_WEBHOOK_SETTINGS } from './webhook-settings.js';
import { notifyDeliveriesQueued } from './webhook-events.js';

export interface Webhook extends repo.WebhookRow {
  readonly project: string;
  readonly spider: string;
}

export const webhookName = (project: string, spider: string) => `${spiderName(project, spider)}/webhook`;

/** projects/{project}/spiders/{spider}/webhook → its project and spider; INVALID_ARGUMENT naming `field` otherwise. */
export function parseWebhookName(name: string, field = 'name'): { project: string; spider: string } {
  if (!name.endsWith('/webhook')) {
    throw new InvalidArgument(`${field} '${name}' is not a valid resource name; expected projects/{project}/spiders/{spider}/webhook`, {
      field,
      reason: 'INVALID_NAME',
    });
  }
  return parseSpiderName(name.slice(0, -'/webhook'.length), field);
}

async function spiderOf(deps: Deps, principal: Principal, project: string, spider: string): Promise<projectsRepo.SpiderRow> {
  const p = await projectAccess(deps.db, principal, project);
  const row = await projectsRepo.findSpider(deps.db, p.id, spider);
  if (!row) throw new NotFound(`spider '${spider}' not found in project '${project}'`, { reason: 'SPIDER_NOT_FOUND' });
  return row;
}

export async function getWebhook(deps: Deps, principal: Principal, name: string): Promise<Webhook> {
  const { project, spider } = parseWebhookName(name);
  const s = await spiderOf(deps, principal, project, spider);
  const row = await repo.findWebhook(deps.db, s.id);
  if (!row) throw new NotFound(`spider '${spider}' has no webhook`, { reason: 'WEBHOOK_NOT_FOUND' });
  return { ...row, project, spider };
}

/** Sets the webhook's payload_url (creating the webhook). `field` names the URL in errors. */
export async function setWebhook(deps: Deps, principal: Principal, name: string, payloadUrl: string, field = 'payload_url', nameField = 'name'): Promise<Webhook> {
  const { project, spider } = parseWebhookName(name, nameField);
  const url = checkPayloadUrl(payloadUrl, (deps.settings.webhooks ?? DEFAULT_WEBHOOK_SETTINGS).allowPrivate, field);
  const s = await spiderOf(deps, principal, project, spider);
  await deps.db.transaction((tx) => repo.setWebhook(tx, s.id, url));
  deps.logger.info({ project, spider, payloadUrl: redactedUrl(url) }, 'webhook set');
  notifyDeliveriesQueued(); // deliveries waiting for a URL change may go now
  return { ...(await repo.findWebhook(deps.db, s.id))!, project, spider };
}

export async function deleteWebhook(deps: Deps, principal: Principal, name: string): Promise<void> {
  const { project, spider } = parseWebhookName(name);
  const s = await spiderOf(deps, principal, project, spider);
  const deleted = await deps.db.transaction((tx) => repo.deleteWebhook(tx, s.id));
  if (!deleted) throw new NotFound(`spider '${spider}' has no webhook`, { reason: 'WEBHOOK_NOT_FOUND' });
  deps.logger.info({ project, spider }, 'webhook deleted');
}

/** A URL for logs: no query string (it may carry a token). */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
