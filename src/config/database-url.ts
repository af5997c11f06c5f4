/** database_url: SQLAlchemy-style sqlite:/// and postgresql:// URLs, parsed and masked for logs. */
import path from 'node:path';
import { ConfigError } from './config-error.js';

export type DatabaseUrl =
  /** `path` is absolute, or `:memory:`. */
  | { readonly kind: 'sqlite'; readonly path: string }
  /** `url` is a postgresql:// connection string for pg (a `+driver` suffix removed). */
  | { readonly kind: 'postgres'; readonly url: string };

export interface ParseDatabaseUrlOptions {
  /** Base for relative sqlite paths; default process.cwd(). */
  cwd?: string;
  /** Named in errors: a file path or `environment variable SCRAPYDD_DATABASE_URL`. */
  source?: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const EXPECTED = 'expected sqlite:///file.db, sqlite:////abs/file.db, sqlite:///:memory: or postgresql://user:pass@host:port/db';

/**
 * Parses database_url as the original did (SQLAlchemy rules): three slashes
 * then a path relative to cwd, four for an absolute path. Driver suffixes
 * (`postgresql+psycopg2://`) are accepted and dropped.
 */
export function parseDatabaseUrl(url: string, options: ParseDatabaseUrlOptions = {}): DatabaseUrl {
  const fail = (problem: string): ConfigError =>
    ConfigError.forValue('database_url', options.source, `'${describeDatabaseUrl(url)}' ${problem}`, 'server');
  const text = url.trim();
  const scheme = SCHEME.exec(text);
  const dialect = scheme?.[1]?.split('+')[0]?.toLowerCase();
  if (scheme === null || dialect === undefined) throw fail(`is not a database URL (${EXPECTED})`);
  const rest = text.slice(scheme[0].length);

  if (dialect === 'sqlite') {
    if (rest === '') return { kind: 'sqlite', path: ':memory:' };
    if (!rest.startsWith('/')) throw fail('has a host; sqlite URLs start with sqlite:/// (three slashes)');
    if (rest.includes('?')) throw fail('has query parameters, which sqlite URLs do not support here');
    const file = rest.slice(1);
    if (file === '') throw fail('has no file name');
    if (file === ':memory:') return { kind: 'sqlite', path: ':memory:' };
    return { kind: 'sqlite', path: path.resolve(options.cwd ?? process.cwd(), file) };
  }

  if (dialect === 'postgresql' || dialect === 'postgres') {
    const normalized = `postgresql://${rest}`;
    try {
      new URL(normalized);
    } catch {
      throw fail('is not a valid URL');
    }
    return { kind: 'postgres', url: normalized };
  }

  throw fail(`uses an unsupported database '${dialect}' (${EXPECTED})`);
}

/** The URL with any password replaced by `***`, safe to log. Accepts a raw or parsed URL. */
export function describeDatabaseUrl(url: string | DatabaseUrl): string {
  if (typeof url !== 'string') return url.kind === 'sqlite' ? `sqlite:///${url.path}` : describeDatabaseUrl(url.url);
  const scheme = SCHEME.exec(url);
  if (scheme === null) return url;
  const rest = url.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  let tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  let maskedAuthority = authority;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon !== -1) maskedAuthority = `${userinfo.slice(0, colon)}:***${authority.slice(at)}`;
  }
  tail = tail.replace(/([?&][^=&#]*password[^=&#]*=)[^&#]*/gi, '$1***');
  return `${scheme[0]}${maskedAuthority}${tail}`;
}
