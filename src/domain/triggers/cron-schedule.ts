/**
 * When a cron expression fires in a time zone. Days are walked on the local
 * calendar; local times become instants with the zone's offsets, and the two
 * DST edges follow cron's rules (docs/triggers.md):
 *  - a local time skipped by a spring-forward gap fires once, at the first
 *    instant after the gap, when the hour field is fixed (`30 2 * * *`); a
 *    schedule whose hour field starts with `*` has nothing in the gap;
 *  - a local time repeated by a fall-back overlap fires once, at its first
 *    occurrence, when the hour field is fixed; a schedule whose hour field
 *    starts with `*` fires at every real occurrence.
 */
import { dayMatches, type CronExpression } from './cron-expression.js';
import { offsetMs } from './time-zone.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Far enough for any satisfiable expression (29 February after a skipped leap year). */
const SEARCH_DAYS = 366 * 9;
/** How far around a local day offsets are compared to find a DST change in it. */
const WINDOW_MS = 26 * 3_600_000;

/** The first fire time strictly after `after`; undefined when the expression never fires (31 February). */
export function nextFireTime(cron: CronExpression, zone: string, after: Date): Date | undefined {
  const afterMs = after.getTime();
  // Start a day early: `after` may lie in a repeated hour whose local day began "later".
  const startLocal = afterMs + offsetMs(zone, afterMs) - DAY_MS;
  let day = Date.UTC(new Date(startLocal).getUTCFullYear(), new Date(startLocal).getUTCMonth(), new Date(startLocal).getUTCDate());
  for (let i = 0; i < SEARCH_DAYS; i++, day += DAY_MS) {
    const found = firstOfDay(cron, zone, day, afterMs);
    if (found === undefined) continue;
    // Around a DST change the next local day may hold an earlier instant (a repeat across midnight).
    const following = found.transition ? firstOfDay(cron, zone, day + DAY_MS, afterMs) : undefined;
    return new Date(following === undefined ? found.ms : Math.min(found.ms, following.ms));
  }
  return undefined;
}

/** The earliest fire instant after `afterMs` among the local times of one local day (`dayMs`: its midnight as if UTC). */
function firstOfDay(cron: CronExpression, zone: string, dayMs: number, afterMs: number): { ms: number; transition: boolean } | undefined {
  const d = new Date(dayMs);
  if (!dayMatches(cron, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCDay())) return undefined;
  const before = offsetMs(zone, dayMs - WINDOW_MS);
  const later = offsetMs(zone, dayMs + DAY_MS + WINDOW_MS);
  if (before === later) {
    // No DST change near this day: local times map to instants in order, the first one after `afterMs` wins.
    for (const h of cron.hours) {
      for (const m of cron.minutes) {
        const ms = dayMs + h * 3_600_000 + m * MINUTE_MS - before;
        if (ms > afterMs) return { ms, transition: false };
      }
    }
    return undefined;
  }
  const change = transitionAt(zone, dayMs - WINDOW_MS, dayMs + DAY_MS + WINDOW_MS, before);
  let best: number | undefined;
  for (const h of cron.hours) {
    for (const m of cron.minutes) {
      for (const ms of instantsOf(cron, dayMs + h * 3_600_000 + m * MINUTE_MS, before, later, change)) {
        if (ms > afterMs && (best === undefined || ms < best)) best = ms;
      }
    }
  }
  return best === undefined ? undefined : { ms: best, transition: true };
}

/** The instants of one local time (as if UTC) around a change from offset `before` to `after` at instant `change`. */
function instantsOf(cron: CronExpression, local: number, before: number, after: number, change: number): number[] {
  const early = local - before;
  const late = local - after;
  const found = [...(early < change ? [early] : []), ...(late >= change ? [late] : [])];
  if (found.length === 0) return cron.hourWildcard ? [] : [change]; // in the gap
  if (found.length === 2 && !cron.hourWildcard) return [Math.min(...found)]; // repeated: the first only
  return found;
}

/** The first whole minute in [from, to] whose offset is no longer `offset` (binary search). */
function transitionAt(zone: string, from: number, to: number, offset: number): number {
  let lo = Math.floor(from / MINUTE_MS);
  let hi = Math.ceil(to / MINUTE_MS);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(zone, mid * MINUTE_MS) === offset) lo = mid + 1;
    else hi = mid;
  }
  return lo * MINUTE_MS;
}
