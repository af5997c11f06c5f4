/**
 * A trigger's fields as a client gives them, checked: the cron expression,
 * the zone (empty: the server's `timezone`), Scrapy setting names, and the
 * dedupe key that makes an exact duplicate on one spider impossible.
 */
import { createHash } from 'node:crypto';
import { InvalidArgument } from '../../errors/domain-error.js';
import type { TriggerFields } from '../../storage/triggers-repo.js';
import { CronSyntaxError, parseCron, type CronExpression } from './cron-expression.js';
import { nextFireTime } from './cron-schedule.js';
import { canonicalTimeZone, isTimeZone } from './time-zone.js';

export interface TriggerInput {
  cron: string;
  timeZone: string;
  enabled: boolean;
  args: Record<string, string>;
  settings: Record<string, string>;
}

const SETTING_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The checked fields of a trigger with its next fire time after `now`; INVALID_ARGUMENT naming trigger.<field> otherwise. */
export function checkTriggerInput(input: TriggerInput, defaultZone: string, now: Date): TriggerFields {
  const cron = checkCron(input.cron);
  const zone = input.timeZone.trim() === '' ? defaultZone : input.timeZone;
  if (!isTimeZone(zone)) {
    throw new InvalidArgument(`time zone '${zone}' is not an IANA time zone name (such as UTC, Asia/Kolkata or Europe/Berlin)`, {
      field: 'trigger.time_zone', reason: 'INVALID_TIME_ZONE',
    });
  }
  for (const k of Object.keys(input.settings)) {
    if (!SETTING_KEY.test(k)) throw new InvalidArgument(`'${k}' is not a Scrapy setting name`, { field: 'trigger.scrapy_settings' });
  }
  for (const k of Object.keys(input.args)) {
    if (k === '') throw new InvalidArgument('spider argument names must not be empty', { field: 'trigger.args' });
  }
  const next = nextFireTime(cron, zone, now);
  if (!next) throw new InvalidArgument(`cron '${cron.text}' never fires (no such date)`, { field: 'trigger.cron', reason: 'INVALID_CRON' });
  return {
    cron: cron.text,
    timeZone: zone,
    enabled: input.enabled,
    args: input.args,
    settings: input.settings,
    dedupeKey: dedupeKey(cron.text, zone, input.args, input.settings),
    nextFireTime: input.enabled ? next.toISOString() : undefined,
  };
}

export function checkCron(text: string): CronExpression {
  try {
    return parseCron(text);
  } catch (err) {
    if (err instanceof CronSyntaxError) throw new InvalidArgument(err.message, { field: 'trigger.cron', reason: 'INVALID_CRON' });
    throw err;
  }
}

/** Same expression, zone (by its canonical name), args and settings: the same trigger. */
function dedupeKey(cron: string, zone: string, args: Record<string, string>, settings: Record<string, string>): string {
  const sorted = (o: Record<string, string>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([cron, canonicalTimeZone(zone), sorted(args), sorted(settings)])).digest('hex');
}
