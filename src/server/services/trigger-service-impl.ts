/** scrapydd.v1.TriggerService over the domain: a spider's cron triggers. */
import { TriggerServiceService, Trigger_Outcome, type Trigger, type TriggerFire } from '../../../gen/scrapydd/v1/trigger.js';
import type { Deps } from '../../domain/deps.js';
import * as triggers from '../../domain/triggers/trigger-service.js';
import { triggerName } from '../../domain/triggers/trigger-names.js';
import { InvalidArgument } from '../../errors/domain-error.js';
import { bind, type ServiceBinding } from './service-binding.js';

export function triggerService(deps: Deps): ServiceBinding {
  return bind('scrapydd.v1.TriggerService', TriggerServiceService, {
    async createTrigger(req, ctx) {
      if (!req.trigger) throw new InvalidArgument('trigger is required', { field: 'trigger' });
      return triggerToProto(await triggers.createTrigger(deps, ctx.principal, req.parent, requestOf(req.trigger)));
    },
    async getTrigger(req, ctx) {
      return triggerToProto(await triggers.getTrigger(deps, ctx.principal, req.name));
    },
    async listTriggers(req, ctx) {
      const { items, nextPageToken } = await triggers.listTriggers(deps, ctx.principal, req);
      return { triggers: items.map(triggerToProto), nextPageToken };
    },
    async updateTrigger(req, ctx) {
      if (!req.trigger) throw new InvalidArgument('trigger is required', { field: 'trigger' });
      const mask = maskOf(req.updateMask ?? [], req.trigger);
      return triggerToProto(await triggers.updateTrigger(deps, ctx.principal, req.trigger.name, requestOf(req.trigger), mask));
    },
    async deleteTrigger(req, ctx) {
      await triggers.deleteTrigger(deps, ctx.principal, req.name);
      return {};
    },
    async listTriggerFires(req, ctx) {
      const { items, nextPageToken } = await triggers.listTriggerFires(deps, ctx.principal, req);
      return { fires: items.map(fireToProto), nextPageToken };
    },
  });
}

function requestOf(t: Trigger): triggers.TriggerRequest {
  return { cron: t.cron, timeZone: t.timeZone, enabled: t.enabled, args: t.args, settings: t.scrapySettings };
}

/**
 * update_mask paths in snake_case or camelCase (REST clients send either);
 * `*` is every field; no mask (AIP-134) is every field the request sets.
 */
function maskOf(paths: string[], t: Trigger): triggers.UpdatableField[] {
  if (paths.length === 0) {
    const set: triggers.UpdatableField[] = [];
    if (t.cron !== '') set.push('cron');
    if (t.timeZone !== '') set.push('time_zone');
    if (t.enabled !== undefined) set.push('enabled');
    if (Object.keys(t.args).length > 0) set.push('args');
    if (Object.keys(t.scrapySettings).length > 0) set.push('scrapy_settings');
    return set;
  }
  if (paths.length === 1 && paths[0] === '*') return [...triggers.UPDATABLE_FIELDS];
  return paths.map((p) => {
    const snake = p.trim().replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) as triggers.UpdatableField;
    if (!triggers.UPDATABLE_FIELDS.includes(snake)) {
      throw new InvalidArgument(`'${p}' cannot be updated; use ${triggers.UPDATABLE_FIELDS.join(', ')}`, { field: 'update_mask' });
    }
    return snake;
  });
}

const OUTCOMES: Record<string, Trigger_Outcome> = {
  QUEUED: Trigger_Outcome.QUEUED,
  MISSED: Trigger_Outcome.MISSED,
  SPIDER_DISABLED: Trigger_Outcome.SPIDER_DISABLED,
  SPIDER_MISSING: Trigger_Outcome.SPIDER_MISSING,
  NO_VERSION: Trigger_Outcome.NO_VERSION,
};

function fireToProto(f: triggers.TriggerFire): TriggerFire {
  return {
    fireTime: f.fireTime,
    outcome: OUTCOMES[f.outcome]!,
    reason: f.reason,
    job: f.jobKey ? `projects/${f.project}/spiders/${f.spider}/jobs/${f.jobKey}` : '',
    handleTime: f.handleTime,
  };
}

export function triggerToProto(t: triggers.Trigger): Trigger {
  return {
    name: triggerName(t.project, t.spider, t.id),
    cron: t.cron,
    timeZone: t.timeZone,
    enabled: t.enabled,
    args: t.args,
    scrapySettings: t.settings,
    nextFireTime: t.enabled ? t.nextFireTime : undefined,
    createTime: t.createTime,
    updateTime: t.updateTime,
    lastFireTime: t.lastFireTime,
    lastOutcome: t.lastOutcome ? OUTCOMES[t.lastOutcome]! : Trigger_Outcome.OUTCOME_UNSPECIFIED,
    lastOutcomeReason: t.lastReason,
    lastJob: t.lastJobKey ? `projects/${t.project}/spiders/${t.spider}/jobs/${t.lastJobKey}` : '',
  };
}
