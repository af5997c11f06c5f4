/**
 * ~/.netrc, which scrapyd-deploy falls back to when its target names no user:
 * `machine <host> login <user> password <secret>` entries and a `default`
 * entry; `macdef` blocks and `#` comments are skipped. Like ~/.scrapydd it is
 * refused when other users may read it.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CredentialLayer } from './credentials.js';
import { DeployError, EXIT } from './deploy-error.js';

export interface NetrcEntry {
  readonly login?: string;
  readonly password?: string;
}

export function netrcPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NETRC || join(homedir(), '.netrc');
}

/** The entry for `host`, else the `default` entry, else undefined. */
export function netrcEntry(text: string, host: string): NetrcEntry | undefined {
  const tokens = tokenize(text);
  let current: { login?: string; password?: string } | undefined;
  const entries = new Map<string, { login?: string; password?: string }>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === 'machine' || token === 'default') {
      const machine = token === 'default' ? '\0default' : (tokens[++i] ?? '').toLowerCase();
      current = {};
      // The first entry for a machine wins, as in curl.
      if (!entries.has(machine)) entries.set(machine, current);
    } else if ((token === 'login' || token === 'password' || token === 'account') && current !== undefined) {
      const value = tokens[++i];
      if (token !== 'account' && value !== undefined) current[token] = value;
    }
  }
  return entries.get(host.toLowerCase()) ?? entries.get('\0default');
}

/** Whitespace-separated tokens; `"..."` quotes one; `#` starts a comment; `macdef` skips to the next empty line. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    for (let m = re.exec(line); m !== null; m = re.exec(line)) {
      if (m[2]?.startsWith('#')) break;
      const token = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
      if (token === 'macdef') {
        while (l + 1 < lines.length && lines[l + 1]!.trim() !== '') l++;
        break;
      }
      tokens.push(token);
    }
  }
  return tokens;
}

/** The credential layer of ~/.netrc for the server's host, or undefined when the file or an entry is missing. */
export function netrcLayer(file: string, serverUrl: URL): CredentialLayer | undefined {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DeployError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  const entry = netrcEntry(text, serverUrl.hostname);
  if (entry === undefined || entry.login === undefined || entry.login === '') return undefined;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0 && entry.password !== undefined) {
    throw new DeployError(
      `${file} holds secrets but other users may read it (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${file}`,
      EXIT.usage,
    );
  }
  return {
    source: file,
    passwordBoundToUsername: true,
    username: entry.login,
    ...(entry.password === undefined || entry.password === '' ? {} : { password: entry.password }),
  };
}
