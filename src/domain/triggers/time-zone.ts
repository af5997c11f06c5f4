/** UTC offsets of IANA time zones at given instants, from the runtime's Intl data. */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(zone, f);
  }
  return f;
}

/** Whether `zone` is a time zone name the runtime knows. */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone !== zone.trim()) return false;
  try {
    formatOf(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's canonical name (`Asia/Kolkata` and `Asia/Calcutta` are one zone). */
export function canonicalTimeZone(zone: string): string {
  return formatOf(zone).resolvedOptions().timeZone;
}

/** Local time minus UTC, in milliseconds, at instant `ms`. */
export function offsetMs(zone: string, ms: number): number {
  const at = Math.floor(ms / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of formatOf(zone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - at;
}
