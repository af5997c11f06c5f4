/**
 * Which credentials a deploy sends: from flags, the environment, ~/.scrapydd,
 * scrapy.cfg, then ~/.netrc, in that order of precedence. Secrets only ever go
 * into the Authorization header, never into messages.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DeployError, EXIT } from './deploy-error.js';
import { parseIniSections } from './ini-sections.js';

export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string; readonly source: string }
  | { readonly kind: 'api-key'; readonly apiKey: string; readonly source: string };

/** What one source offers; any field may be missing. */
export interface CredentialLayer {
  readonly source: string;
  readonly username?: string;
  readonly password?: string;
  readonly apiKey?: string;
  /** A password from this layer only goes with this layer's own user name (files: a password is for their user). */
  readonly passwordBoundToUsername?: boolean;
}

export const CREDENTIALS_FILE_NAME = '.scrapydd';

export function credentialsFilePath(): string {
  return join(homedir(), CREDENTIALS_FILE_NAME);
}

/** The credentials from the environment: SCRAPYDD_USERNAME, SCRAPYDD_PASSWORD, SCRAPYDD_API_KEY. */
export function environmentLayer(env: NodeJS.ProcessEnv): CredentialLayer {
  return { source: 'the environment', ...definedOnly({ username: env.SCRAPYDD_USERNAME, password: env.SCRAPYDD_PASSWORD, apiKey: env.SCRAPYDD_API_KEY }) };
}

/**
 * ~/.scrapydd: INI with a section per server URL (`[https://scrapydd.example.com]`) or
 * `[default]`, keys username, password, api_key. The section of the server's URL wins over
 * [default] as a whole. Refused when other users may read it, as ssh does for keys.
 */
export function credentialsFileLayer(file: string, serverUrl: URL): CredentialLayer | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DeployError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new DeployError(
      `${file} holds secrets but other users may read it (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${file}`,
      EXIT.usage,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeployError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  const sections = parseIniSections(text);
  const wanted = serverKey(serverUrl);
  let chosen: { name: string; keys: Map<string, string> } | undefined;
  // A section naming the URL with its path beats one naming only the server's origin.
  for (const exact of [true, false]) {
    for (const [name, keys] of sections) {
      if (chosen === undefined && name !== 'default' && sectionMatches(name, wanted, exact)) chosen = { name, keys };
    }
  }
  if (chosen === undefined) {
    const fallback = sections.get('default');
    if (fallback === undefined) return undefined;
    chosen = { name: 'default', keys: fallback };
  }
  return {
    source: `${file} [${chosen.name}]`,
    passwordBoundToUsername: true,
    ...definedOnly({ username: chosen.keys.get('username'), password: chosen.keys.get('password'), apiKey: chosen.keys.get('api_key') }),
  };
}

/**
 * Chooses the credentials: the API key or the user name from the highest layer that has
 * either (an API key wins in a tie); the password from the highest layer that may pair with
 * that user. `promptPassword` is asked when a user name has no password (a terminal only).
 */
export async function chooseCredentials(
  layers: readonly (CredentialLayer | undefined)[],
  promptPassword: ((username: string) => Promise<string>) | undefined,
): Promise<Credentials> {
  const present = layers.filter((l): l is CredentialLayer => l !== undefined);
  const decisive = present.find((l) => l.apiKey !== undefined || l.username !== undefined);
  if (decisive === undefined) return { kind: 'none' };
  if (decisive.apiKey !== undefined) return { kind: 'api-key', apiKey: decisive.apiKey, source: decisive.source };
  const username = decisive.username!;
  const passwordLayer = present.find(
    (l) => l.password !== undefined && (!l.passwordBoundToUsername || l.username === undefined || l.username === username),
  );
  if (passwordLayer !== undefined) return { kind: 'basic', username, password: passwordLayer.password!, source: decisive.source };
  if (promptPassword === undefined) {
    throw new DeployError(
      `no password for user '${username}' (from ${decisive.source}): give --password-stdin, set SCRAPYDD_PASSWORD, ` +
        `or put it in ~/${CREDENTIALS_FILE_NAME}`,
      EXIT.usage,
    );
  }
  return { kind: 'basic', username, password: await promptPassword(username), source: decisive.source };
}

/** The Authorization header value, or undefined for no credentials. */
export function authorizationHeader(credentials: Credentials): string | undefined {
  switch (credentials.kind) {
    case 'none':
      return undefined;
    case 'basic':
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    case 'api-key':
      return `Bearer ${credentials.apiKey}`;
  }
}

/** Who the credentials are, for messages: never the secret. */
export function describeCredentials(credentials: Credentials): string {
  switch (credentials.kind) {
    case 'none':
      return 'no credentials';
    case 'basic':
      return `user '${credentials.username}' (from ${credentials.source})`;
    case 'api-key':
      return `an API key (from ${credentials.source})`;
  }
}

/** Scheme, host and port, lower-cased, and the path without trailing slashes. */
function serverKey(url: URL): { origin: string; full: string } {
  const origin = `${url.protocol}//${url.host}`.toLowerCase();
  return { origin, full: `${origin}${url.pathname.replace(/\/+$/, '')}` };
}

function sectionMatches(section: string, wanted: { origin: string; full: string }, exact: boolean): boolean {
  let url: URL;
  try {
    url = new URL(section);
  } catch {
    return false;
  }
  const key = serverKey(url);
  return exact ? key.full === wanted.full : key.full === key.origin && key.origin === wanted.origin;
}

function definedOnly(values: { username?: string | undefined; password?: string | undefined; apiKey?: string | undefined }) {
  const out: { username?: string; password?: string; apiKey?: string } = {};
  if (values.username !== undefined && values.username !== '') out.username = values.username;
  if (values.password !== undefined && values.password !== '') out.password = values.password;
  if (values.apiKey !== undefined && values.apiKey !== '') out.apiKey = values.apiKey;
  return out;
}
