/**
 * Eggs by SHA-256 under <dataDir>/eggs: downloaded once with FetchEgg into
 * <sha>.egg.part (resumed from its size after a failure), verified (size and
 * SHA-256), then renamed to <sha>.egg and reused by every later job.
 * Concurrent jobs of one egg share one download.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { NodeSessionServiceClient } from '../../gen/scrapydd/v1/node_session.js';
import { Backoff, sleep } from './backoff.js';
import { describeGrpcError } from './server-clients.js';

export interface EggSource {
  readonly client: NodeSessionServiceClient;
  readonly metadata: grpc.Metadata;
}

/** A server that is away (restarting, failing over) is waited for a few minutes; bad bytes are retried less. */
const ATTEMPTS = 20;
const CORRUPT_ATTEMPTS = 3;

class CorruptEgg extends Error {}
const FINAL_CODES = new Set([grpc.status.PERMISSION_DENIED, grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT, grpc.status.UNAUTHENTICATED]);

export class EggCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    /** The client of the server the agent is connected to now. */
    private readonly source: () => EggSource,
    private readonly logger: Logger,
    private readonly idleTimeoutMs: number,
  ) {}

  /** The path of the verified egg, downloading it if needed. */
  async get(sha256: string, size: number): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`egg sha256 '${sha256}' is not 64 hex digits`);
    const final = join(this.dir, `${sha256}.egg`);
    if ((await sizeOf(final)) === size) return final;
    let pending = this.inflight.get(sha256);
    if (!pending) {
      pending = this.download(sha256, size, final).finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, pending);
    }
    return pending;
  }

  private async download(sha256: string, size: number, final: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const part = `${final}.part`;
    const backoff = new Backoff();
    let corrupt = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.fetchInto(sha256, size, part);
        const actual = await sha256Of(part);
        if (actual !== sha256) {
          await rm(part, { force: true });
          throw new CorruptEgg(`egg ${sha256} arrived with SHA-256 ${actual}`);
        }
        await rename(part, final);
        this.logger.info({ egg: sha256, bytes: size }, 'egg downloaded');
        return final;
      } catch (err) {
        const { code, message } = describeGrpcError(err);
        if (err instanceof CorruptEgg) corrupt++;
        if (attempt >= ATTEMPTS || corrupt >= CORRUPT_ATTEMPTS || FINAL_CODES.has((err as grpc.ServiceError).code)) {
          throw new Error(`cannot download egg ${sha256}: ${code} ${message}`);
        }
        const delay = backoff.next();
        this.logger.warn({ egg: sha256, attempt, code, err: message, retryInMs: delay }, 'egg download failed; retrying');
        await sleep(delay);
      }
    }
  }

  /** Appends the missing bytes to `part` (from its current size) until it has `size` bytes. */
  private async fetchInto(sha256: string, size: number, part: string): Promise<void> {
    let offset = (await sizeOf(part)) ?? 0;
    if (offset > size) {
      await rm(part, { force: true });
      offset = 0;
    }
    if (offset === size) return;
    const { client, metadata } = this.source();
    const call = client.fetchEgg({ sha256, offset: String(offset) }, metadata);
    const file = await open(part, 'a', 0o600);
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => call.cancel(), this.idleTimeoutMs);
    };
    try {
      arm();
      for await (const msg of call as AsyncIterable<{ chunk: Buffer; totalSizeBytes: string }>) {
        arm();
        if (msg.totalSizeBytes !== '0' && Number(msg.totalSizeBytes) !== size) {
          throw new CorruptEgg(`the server has ${msg.totalSizeBytes} bytes for egg ${sha256}, the job said ${size}`);
        }
        if (offset + msg.chunk.length > size) throw new CorruptEgg(`egg ${sha256} is longer than ${size} bytes`);
        await file.write(msg.chunk);
        offset += msg.chunk.length;
      }
      await file.sync();
    } finally {
      clearTimeout(idle);
      call.cancel();
      await file.close();
    }
    if (offset !== size) throw new Error(`egg ${sha256} stream ended at ${offset} of ${size} bytes`);
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
