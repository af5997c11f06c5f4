/**
 * One real server per describe block for the HTTP tests: a fresh database,
 * the compiled server on a free port, and users made with `scrapydd adduser`
 * (password on stdin). Also what those tests inspect on disk (stored eggs)
 * and a second real egg of the quotes project with one spider fewer.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { execa } from 'execa';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from './databases.js';
import { buildEgg, TEST_PYTHON, writeTempFile } from './eggs.js';
import { basic, startTestServer, type TestServer } from './server-process.js';

export interface TestUser {
  name: string;
  password: string;
  admin?: boolean;
}

export const ADMIN: TestUser = { name: 'root', password: 'root-pass-1', admin: true };
export const ALICE: TestUser = { name: 'alice', password: 'alice-pass-1' };
export const BOB: TestUser = { name: 'bob', password: 'bob-pass-12' };

export const authOf = (u: TestUser): string => basic(u.name, u.password);

export interface Harness {
  readonly server: TestServer;
  readonly db: TestDatabase;
}

/**
 * Registers before/after hooks in the current describe block that start a
 * server on a fresh `kind` database and create `users`; the returned getter
 * is valid inside tests.
 */
export function useServer(kind: TestDatabaseKind, opts: { settings?: Record<string, string>; users?: TestUser[] } = {}): () => Harness {
  let harness: Harness | undefined;
  before(async () => {
    const db = await createTestDatabase(kind);
    let server: TestServer;
    try {
      server = await startTestServer({ databaseUrl: db.url, settings: { runner_python: TEST_PYTHON, ...opts.settings } });
    } catch (err) {
      await db.drop();
      throw err;
    }
    harness = { server, db };
    for (const user of opts.users ?? []) await addUser(server, user);
  });
  after(async () => {
    if (!harness) return;
    await harness.server.stop();
    await harness.db.drop();
  });
  return () => {
    if (!harness) throw new Error('the test server is not running (did before() fail?)');
    return harness;
  };
}

/** `scrapydd adduser NAME [--admin]` with the password on standard input. */
export async function addUser(server: TestServer, user: TestUser): Promise<void> {
  const result = await server.cli(['adduser', user.name, ...(user.admin ? ['--admin'] : [])], `${user.password}\n`);
  if (result.code !== 0) throw new Error(`adduser ${user.name} failed (${result.code}): ${result.stderr}`);
}

/** Files in the server's content-addressed egg store (`<data_dir>/blobs/sha256/`). */
export async function storedBlobs(server: TestServer): Promise<string[]> {
  const root = join(server.workDir, 'data', 'blobs', 'sha256');
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => /^[0-9a-f]{2}[\\/][0-9a-f]{64}$/.test(e)).sort();
}

/** Upload staging files left in `<data_dir>/tmp` (none once a request is answered). */
export async function stagedUploads(server: TestServer): Promise<string[]> {
  try {
    return (await readdir(join(server.workDir, 'data', 'tmp'))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The quotes egg (spiders alpha, beta, gamma) as bytes. */
export async function quotesEgg(): Promise<Buffer> {
  return readFile(await buildEgg('quotes'));
}

const variants = new Map<string, Promise<Buffer>>();

/**
 * A real quotes egg rebuilt without some entries and with extra ones, e.g.
 * without quotes/spiders/gamma.py (spiders alpha and beta) or with a marker
 * file that gives it bytes no other test uploads.
 */
export function quotesEggVariant(change: { drop?: string[]; add?: Record<string, string> }): Promise<Buffer> {
  const key = JSON.stringify(change);
  let egg = variants.get(key);
  if (!egg) {
    egg = (async () => {
      const source = await buildEgg('quotes');
      const target = await writeTempFile('', 'quotes-variant.egg');
      const script = [
        'import json, sys, zipfile',
        'drop, add = json.loads(sys.argv[3]), json.loads(sys.argv[4])',
        'src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED)',
        'for info in src.infolist():',
        '    if info.filename not in drop: dst.writestr(info, src.read(info))',
        'for name, text in add.items(): dst.writestr(name, text)',
        'dst.close()',
      ].join('\n');
      const args = [source, target, JSON.stringify(change.drop ?? []), JSON.stringify(change.add ?? {})];
      await execa(TEST_PYTHON, ['-c', script, ...args], { stdin: 'ignore' });
      return readFile(target);
    })();
    variants.set(key, egg);
  }
  return egg;
}

/** The quotes egg without gamma: spiders alpha and beta. */
export const quotesEggWithoutGamma = () => quotesEggVariant({ drop: ['quotes/spiders/gamma.py'] });

/** A quotes egg (alpha, beta, gamma) whose bytes are unique to `marker`. */
export const uniqueQuotesEgg = (marker: string) => quotesEggVariant({ add: { 'EGG-INFO/test-marker.txt': marker } });

/** Where `data` sits in the blob store, as storedBlobs() lists it: `ab/<hex sha256>`. */
export function blobPathOf(data: Buffer): string {
  const sha = createHash('sha256').update(data).digest('hex');
  return `${sha.slice(0, 2)}/${sha}`;
}

/** Bytes of `size` that are certainly not a ZIP file. */
export function notAZip(size = 64): Buffer {
  return Buffer.alloc(size, 'this is not a zip file\n');
}
