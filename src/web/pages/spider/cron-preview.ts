/**
 * The next fire times of a cron expression in a zone, computed in the
 * browser with the server's own evaluator (src/domain/triggers: pure TS over
 * Intl), so the preview matches what the server will do, DST rules included.
 */
import { parseCron } from '../../../domain/triggers/cron-expression.js';
import { nextFireTime } from '../../../domain/triggers/cron-schedule.js';
import { isTimeZone } from '../../../domain/triggers/time-zone.js';

export type Preview = { ok: true; times: Date[] } | { ok: false; problem: string };

export function previewFireTimes(cron: string, zone: string, count = 5, after: Date = new Date()): Preview {
  if (cron.trim() === '') return { ok: false, problem: 'Enter a cron expression to see when it fires.' };
  if (!isTimeZone(zone)) return { ok: false, problem: `“${zone}” is not a time zone this browser knows (an IANA name such as Europe/Berlin).` };
  let expr;
  try {
    expr = parseCron(cron);
  } catch (err) {
    return { ok: false, problem: err instanceof Error ? err.message : String(err) };
  }
  const times: Date[] = [];
  let at = after;
  while (times.length < count) {
    const next = nextFireTime(expr, zone, at);
    if (!next) break;
    times.push(next);
    at = next;
  }
  if (times.length === 0) return { ok: false, problem: 'This expression never fires.' };
  return { ok: true, times };
}

/** "Mon, 1 Dec 2026, 09:00" in `zone`. */
export function formatInZone(at: Date, zone: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(at);
}

/** The browser's own zone (the add form's default). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
