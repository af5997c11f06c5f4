/**
 * The version an uploaded egg gets by default, from its file name:
 * `quotes-1.2.egg` → `1.2`, `quotes-1.2-py3.11.egg` → `1.2`; otherwise the
 * upload time in seconds (as `scrapyd-deploy` names versions).
 */
const VERSION = /^[A-Za-z0-9_.-]{1,100}$/;

export function versionFromFileName(fileName: string, now: Date = new Date()): string {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.egg$/i, '').replace(/-py\d+(\.\d+)*$/i, '');
  const m = /^[^-]+-(.+)$/.exec(base);
  const candidate = m?.[1] ?? '';
  if (/^\d/.test(candidate) && VERSION.test(candidate) && !/^\.+$/.test(candidate)) return candidate;
  return String(Math.floor(now.getTime() / 1000));
}
