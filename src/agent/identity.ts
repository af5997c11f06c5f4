/** The node file of a permanent node (node name, token, server), written atomically with mode 0600. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

export interface NodeIdentity {
  /** nodes/{id} */
  readonly node: string;
  /** sdn_... — sent as `authorization: Bearer <token>`; never logged. */
  readonly token: string;
  /** The server that registered it, host:port (informative). */
  readonly server: string;
}

export class NodeFileError extends Error {
  override readonly name = 'NodeFileError';
}

/** The node file's identity, or undefined when there is no node file. */
export async function readNodeFile(file: string): Promise<NodeIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NodeFileError(`cannot read the node file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NodeFileError(`the node file ${file} is not JSON; remove it and run scrapydd agent -g`);
  }
  const o = parsed as Partial<Record<keyof NodeIdentity, unknown>>;
  if (typeof o.node !== 'string' || !/^nodes\/\d{1,20}$/.test(o.node) || typeof o.token !== 'string' || o.token === '') {
    throw new NodeFileError(`the node file ${file} has no valid node and token; remove it and run scrapydd agent -g`);
  }
  return { node: o.node, token: o.token, server: typeof o.server === 'string' ? o.server : '' };
}

/** Writes the node file: a private temp file in the same directory, fsync, rename over the old one. */
export async function writeNodeFile(file: string, identity: NodeIdentity): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ node: identity.node, token: identity.token, server: identity.server }, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(tmp, 0o600); // the umask may have narrowed it further, never widened; be exact
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
