/** Parsers for configuration value syntaxes (bool, port, duration, size, list, time zone, host list, docker host). */
import { dockerSocketPath } from '../docker/docker-host.js';

/** A value that does not fit its type; the message says why, without naming key or source. */
export class InvalidValue extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidValue';
  }
}

const quote = (raw: string): string => `'${raw}'`;

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** true/false, yes/no, on/off, 1/0, case-insensitive. */
export function parseBool(raw: string): boolean {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new InvalidValue(`${quote(raw)} is not a boolean (true/false, yes/no, on/off, 1/0)`);
}

/** A whole number, at least `min` when given. */
export function parseInteger(raw: string, min?: number): number {
  const text = raw.trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidValue(`${quote(raw)} is not a whole number`);
  if (min !== undefined && n < min) throw new InvalidValue(`${quote(raw)} is less than ${min}`);
  return n;
}

/** A TCP port, 1-65535. */
export function parsePort(raw: string): number {
  const text = raw.trim();
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new InvalidValue(`${quote(raw)} is not a port number (1-65535)`);
  return n;
}

/** One of `values`, case-insensitive; returns the canonical (lower-case) spelling. */
export function parseEnum(raw: string, values: readonly string[]): string {
  const word = raw.trim().toLowerCase();
  const hit = values.find((v) => v.toLowerCase() === word);
  if (hit === undefined) throw new InvalidValue(`${quote(raw)} is not one of ${values.join(', ')}`);
  return hit;
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

/** Seconds: `30`, `1.5`, `30s`, `5m`, `1h`; zero only when `allowZero`. */
export function parseDurationSeconds(raw: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smh]?)$/i.exec(raw.trim());
  if (m === null) {
    throw new InvalidValue(`${quote(raw)} is not a duration (seconds, or a number with s, m or h)`);
  }
  const seconds = Number(m[1]) * (DURATION_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (seconds === 0 && !allowZero) throw new InvalidValue(`${quote(raw)} must be more than 0 seconds`);
  return seconds;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Bytes: `1048576`, `100MiB`, `10MB`, `512KiB`, `1.5GiB` (units case-insensitive). */
export function parseSizeBytes(raw: string, min = 1): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const factor = m === null ? undefined : SIZE_UNITS[(m[2] ?? '').toLowerCase()];
  if (m === null || factor === undefined) {
    throw new InvalidValue(
      `${quote(raw)} is not a size (bytes, or a number with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new InvalidValue(`${quote(raw)} is too large`);
  if (bytes < min) throw new InvalidValue(`${quote(raw)} is less than ${min} bytes`);
  return bytes;
}

/** Comma-separated items, trimmed, empty items and duplicates dropped, order kept. */
export function parseList(raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(items)];
}

/** An IANA time zone name; returns the canonical spelling Intl reports (`utc` → `UTC`). */
export function parseTimezone(raw: string): string {
  const name = raw.trim();
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidValue(`${quote(raw)} is not an IANA time zone name (such as UTC or Europe/Paris)`);
  }
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/** One `host`, `host:port`, `[v6addr]`, `[v6addr]:port` or bare `v6addr`. */
export function parseHostPort(item: string, defaultPort: number): HostPort {
  const bad = (): InvalidValue => new InvalidValue(`${quote(item)} is not host[:port]`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item)) {
    throw new InvalidValue(`${quote(item)} is not host[:port] (leave out the scheme)`);
  }
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(item);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!IPV6.test(host)) throw bad();
  } else if (item.split(':').length > 2) {
    host = item; // bare IPv6 address, no port
    if (!IPV6.test(host)) throw bad();
  } else {
    const [h, p] = item.split(':');
    host = h ?? '';
    portText = p;
    if (!HOSTNAME.test(host)) throw bad();
  }
  if (portText === undefined) return { host, port: defaultPort };
  try {
    return { host, port: parsePort(portText) };
  } catch {
    throw new InvalidValue(`${quote(item)} has a bad port (1-65535)`);
  }
}

/** A docker_host: `unix:///path/to/docker.sock` or an absolute socket path. */
export function parseDockerHost(raw: string): string {
  const text = raw.trim();
  try {
    dockerSocketPath(text);
  } catch (err) {
    throw new InvalidValue((err as Error).message);
  }
  return text;
}

// A practical subset of RFC 5322: no spaces, quotes, brackets or separators in
// the local part, a dotted host name (or `localhost`) as the domain. Control
// characters are refused so a value can never inject a header line.
const ADDRESS = /^[^\s@<>()[\],;:"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const DISPLAY_NAME = /^[^\x00-\x1f\x7f<>",;]*$/;

/** An e-mail address, `user@example.com`; returns it trimmed. */
export function parseMailAddress(raw: string): string {
  const text = raw.trim();
  if (!ADDRESS.test(text)) throw new InvalidValue(`${quote(raw)} is not an e-mail address (user@example.com)`);
  return text;
}

/** An address with an optional display name: `user@example.com` or `Name <user@example.com>`. */
export function parseMailbox(raw: string): string {
  const text = raw.trim();
  const named = /^(.*?)\s*<([^<>]*)>$/.exec(text);
  if (named === null) return parseMailAddress(text);
  const name = named[1] ?? '';
  if (!DISPLAY_NAME.test(name)) throw new InvalidValue(`${quote(raw)} has a display name with quotes, commas or control characters`);
  const address = parseMailAddress(named[2] ?? '');
  return name === '' ? address : `${name} <${address}>`;
}
