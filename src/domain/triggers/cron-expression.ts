/**
 * Cron expressions: the classic 5 fields (minute hour day-of-month month
 * day-of-week) and the usual @aliases, parsed into sets of allowed values.
 * Seconds, years, @reboot and the Quartz extensions (? L W #) are refused
 * with a message that says so.
 */

export class CronSyntaxError extends Error {}

export interface CronExpression {
  /** The expression as normalised: aliases kept, whitespace collapsed. */
  readonly text: string;
  /** Ascending allowed minutes (0-59) and hours (0-23). */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  /** 1-12. */
  readonly months: ReadonlySet<number>;
  /** 0-6, Sunday = 0 (7 is read as Sunday too). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Both day fields restricted (neither starts with `*`): a day matches either, as in cron. */
  readonly dayOr: boolean;
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
  /**
   * The hour field starts with `*`: the schedule follows elapsed time through
   * DST changes (every real occurrence of a repeated local time, nothing in a
   * skipped one) rather than the wall clock (see cron-schedule.ts).
   */
  readonly hourWildcard: boolean;
}

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Value of the first name (months start at 1). */
  readonly namesFrom?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

const FIELD_LIST = 'minute hour day-of-month month day-of-week';

/** Parses `text`; throws CronSyntaxError with a message for the client. */
export function parseCron(text: string): CronExpression {
  const normalised = text.trim().replace(/\s+/g, ' ');
  if (normalised === '') throw new CronSyntaxError(`cron is empty; expected 5 fields (${FIELD_LIST}) or an alias such as @daily`);
  if (normalised.startsWith('@')) {
    const alias = normalised.toLowerCase();
    if (alias === '@reboot') throw new CronSyntaxError('@reboot is not supported: triggers fire on a schedule, not when a server starts');
    const expanded = ALIASES[alias];
    if (!expanded) throw new CronSyntaxError(`unknown cron alias '${normalised}'; use one of ${Object.keys(ALIASES).join(' ')}`);
    return { ...parseFields(expanded), text: alias };
  }
  return { ...parseFields(normalised), text: normalised };
}

function parseFields(text: string): Omit<CronExpression, 'text'> {
  const parts = text.split(' ');
  if (parts.length === 6 || parts.length === 7) {
    throw new CronSyntaxError(
      `cron '${text}' has ${parts.length} fields; use 5 (${FIELD_LIST}): fields for seconds or years are not supported`,
    );
  }
  if (parts.length !== 5) throw new CronSyntaxError(`cron '${text}' has ${parts.length} fields; expected 5 (${FIELD_LIST})`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (dow.delete(7)) dow.add(0);
  const domRestricted = !parts[2]!.startsWith('*');
  const dowRestricted = !parts[4]!.startsWith('*');
  return {
    minutes: [...minute].sort((a, b) => a - b),
    hours: [...hour].sort((a, b) => a - b),
    daysOfMonth: dom,
    months: month,
    daysOfWeek: dow,
    dayOr: domRestricted && dowRestricted,
    domRestricted,
    dowRestricted,
    hourWildcard: parts[1]!.startsWith('*'),
  };
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const bad = (why: string) => new CronSyntaxError(`cron ${spec.name} field '${text}': ${why}`);
    const unsupported = /[?LW#]/i.exec(item.replace(/[a-z]{3}/gi, (m) => (spec.names?.includes(m.toLowerCase()) ? '' : m)));
    if (unsupported) throw bad(`'${unsupported[0]}' is not supported (only * , - / numbers${spec.names ? ' and names' : ''})`);
    const m = /^(\*|([^-/]+)(?:-([^-/]+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw bad(`'${item}' is not a value, range (a-b), list (a,b) or step (*/n, a-b/n)`);
    let from = spec.min;
    let to = spec.max === 7 ? 6 : spec.max;
    if (m[1] !== '*') {
      from = value(m[2]!, spec, bad);
      to = m[3] === undefined ? (m[4] === undefined ? from : to) : value(m[3], spec, bad);
      if (from > to) throw bad(`range ${item} runs backwards`);
    }
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (!Number.isSafeInteger(step) || step < 1) throw bad(`step must be at least 1`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(text: string, spec: FieldSpec, bad: (why: string) => CronSyntaxError): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + spec.namesFrom!;
  if (!/^\d+$/.test(text)) throw bad(`'${text}' is not a number${spec.names ? ' or name' : ''}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw bad(`${n} is out of range ${spec.min}-${spec.max}`);
  return n;
}

/** Whether the calendar day (y, month 1-12, day, weekday 0-6) is one the expression runs on. */
export function dayMatches(c: CronExpression, month: number, day: number, weekday: number): boolean {
  if (!c.months.has(month)) return false;
  const dom = c.daysOfMonth.has(day);
  const dow = c.daysOfWeek.has(weekday);
  if (c.dayOr) return dom || dow;
  return (!c.domRestricted || dom) && (!c.dowRestricted || dow);
}
