/**
 * Content-addressed blobs (eggs now; logs and items later) keyed by hex
 * SHA-256, stored on the filesystem under `<data_dir>/blobs/sha256/ab/<hash>`.
 * Writes go to a temporary file first and are renamed into place, so a blob
 * is either complete or absent.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface BlobStore {
  /** Moves (or copies) a file whose SHA-256 is already known into the store. */
  putFile(sourcePath: string, sha256: string): Promise<void>;
  has(sha256: string): Promise<boolean>;
  size(sha256: string): Promise<number | undefined>;
  openRead(sha256: string, start?: number): Readable;
  /** A local path to the blob (the filesystem store's own file). */
  localPath(sha256: string): string;
  delete(sha256: string): Promise<void>;
}

export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  localPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a SHA-256 hex digest: ${sha256}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async putFile(sourcePath: string, sha256: string): Promise<void> {
    const target = this.localPath(sha256);
    if (await this.has(sha256)) return;
    await mkdir(join(target, '..'), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
    try {
      await rename(sourcePath, tmp);
    } catch {
      await copyFile(sourcePath, tmp); // across filesystems
    }
    await rename(tmp, target);
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.localPath(sha256))).size;
    } catch {
      return undefined;
    }
  }

  openRead(sha256: string, start = 0): Readable {
    return createReadStream(this.localPath(sha256), { start });
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.localPath(sha256), { force: true });
  }
}
