/**
 * Reads INI files the way Python's ConfigParser does for scrapy.cfg and ~/.scrapydd:
 * `key = value` and `key: value`, `#`/`;` comment lines, indented continuation lines,
 * case-insensitive keys and section names kept as written (they may be URLs, with dots
 * that the `ini` package would split into nested sections).
 */

export type IniSections = Map<string, Map<string, string>>;

export function parseIniSections(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const rawLine of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      lastKey = undefined;
      continue;
    }
    if (/^\s/.test(rawLine) && current !== undefined && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey) ?? ''}\n${trimmed}`.replace(/^\n/, ''));
      continue;
    }
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      lastKey = undefined;
      continue;
    }
    const sep = /[=:]/.exec(trimmed);
    if (current === undefined || sep === null) {
      lastKey = undefined; // ConfigParser would refuse the file; ignoring the line is kinder here
      continue;
    }
    lastKey = trimmed.slice(0, sep.index).trim().toLowerCase();
    current.set(lastKey, trimmed.slice(sep.index + 1).trim());
  }
  return sections;
}
