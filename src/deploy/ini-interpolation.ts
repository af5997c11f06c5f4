/**
 * Python ConfigParser's basic interpolation, which Scrapy's scrapy.cfg reader
 * applies: `%(name)s` is the value of `name` in the same section or in
 * `[DEFAULT]`, `%%` is a literal `%`, and any other `%` is an error.
 */
import type { IniSections } from './ini-sections.js';

/** ConfigParser's default section: its keys are defaults for every other section. */
export const DEFAULT_SECTION = 'DEFAULT';

/** Python's limit on nested references. */
const MAX_DEPTH = 10;

export class InterpolationError extends Error {}

/** The raw value of `key` in `section`, falling back to [DEFAULT]. */
export function rawValue(sections: IniSections, section: string, key: string): string | undefined {
  return sections.get(section)?.get(key) ?? sections.get(DEFAULT_SECTION)?.get(key);
}

/** The value of `key` in `section` with references resolved; undefined when neither it nor [DEFAULT] has it. */
export function interpolatedValue(sections: IniSections, section: string, key: string): string | undefined {
  const raw = rawValue(sections, section, key);
  return raw === undefined ? undefined : expand(sections, section, key, raw, 1);
}

function expand(sections: IniSections, section: string, key: string, value: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new InterpolationError(`[${section}] ${key}: references nest more than ${MAX_DEPTH} deep (a loop?)`);
  let out = '';
  let i = 0;
  while (i < value.length) {
    const pct = value.indexOf('%', i);
    if (pct < 0) return out + value.slice(i);
    out += value.slice(i, pct);
    const next = value[pct + 1];
    if (next === '%') {
      out += '%';
      i = pct + 2;
      continue;
    }
    const ref = /^%\(([^)]+)\)s/.exec(value.slice(pct));
    if (next !== '(' || ref === null) {
      throw new InterpolationError(`[${section}] ${key}: '%' must be written '%%', or start a reference like %(name)s`);
    }
    const name = ref[1]!.toLowerCase();
    const referenced = rawValue(sections, section, name);
    if (referenced === undefined) throw new InterpolationError(`[${section}] ${key}: %(${name})s names no key of [${section}] or [${DEFAULT_SECTION}]`);
    out += expand(sections, section, name, referenced, depth + 1);
    i = pct + ref[0].length;
  }
  return out;
}
