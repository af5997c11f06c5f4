/**
 * Stages an uploaded egg in a temporary file while hashing it, refusing it
 * as soon as it passes max_upload_size, so nothing oversized is kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { InvalidArgument, ResourceExhausted } from '../../errors/domain-error.js';

export interface StagedEgg {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  /** Removes the temporary file (a no-op once the blob store took it). */
  discard(): Promise<void>;
}

export async function stageEgg(tmpDir: string, chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StagedEgg> {
  await mkdir(tmpDir, { recursive: true });
  const path = join(tmpDir, `upload-${randomBytes(8).toString('hex')}.egg`);
  const out = createWriteStream(path, { mode: 0o600 });
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new ResourceExhausted(`egg is larger than max_upload_size (${maxBytes} bytes)`, {
          reason: 'UPLOAD_TOO_LARGE',
          field: 'egg',
        });
      }
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
  } catch (err) {
    out.destroy();
    await rm(path, { force: true });
    throw err;
  }
  if (size === 0) {
    await rm(path, { force: true });
    throw new InvalidArgument('egg is empty', { field: 'egg', reason: 'EGG_EMPTY' });
  }
  return { path, sha256: hash.digest('hex'), size, discard: () => rm(path, { force: true }) };
}
