/** The installed package's root (where proto/ lives), from src/ under tsx or dist/src/ when built. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'scrapydd') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the scrapydd package root');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
export const PROTO_DIR = join(PACKAGE_ROOT, 'proto');
export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
