/**
 * The agent's egg cache against a real grpc-js FetchEgg server: a broken
 * download resumes from the bytes it has, concurrent jobs share one
 * download, a cached egg is reused, and a corrupt egg is never kept.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { NodeSessionServiceClient, NodeSessionServiceService, type FetchEggRequest, type FetchEggResponse } from '../../gen/scrapydd/v1/node_session.js';
import { EggCache } from '../../src/agent/egg-cache.js';

const EGG = randomBytes(300 * 1024);
const SHA = createHash('sha256').update(EGG).digest('hex');
const CHUNK = 64 * 1024;

describe('agent egg cache', () => {
  let server: grpc.Server;
  let client: NodeSessionServiceClient;
  let dir: string;
  const calls: { offset: number }[] = [];
  /** Per call: break after this many chunks (undefined: serve it all); `corrupt` flips a byte. */
  let plan: ({ breakAfter?: number; corrupt?: boolean } | undefined)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scrapydd-eggs-'));
    server = new grpc.Server();
    const unimplemented = (_: unknown, cb: (e: grpc.ServiceError) => void) => cb({ code: grpc.status.UNIMPLEMENTED } as grpc.ServiceError);
    server.addService(NodeSessionServiceService, {
      getNodeSession: unimplemented,
      listNodeSessions: unimplemented,
      streamNodeSession: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
      fetchEgg: async (call: grpc.ServerWritableStream<FetchEggRequest, FetchEggResponse>) => {
        const offset = Number(call.request.offset);
        calls.push({ offset });
        const step = plan.shift();
        const data = Buffer.from(EGG);
        if (step?.corrupt) data[data.length - 1] ^= 0xff;
        let sent = 0;
        for (let i = offset; i < data.length; i += CHUNK) {
          if (step?.breakAfter !== undefined && sent === step.breakAfter) {
            call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'connection lost' });
            return;
          }
          await new Promise<void>((res) => call.write({ chunk: data.subarray(i, i + CHUNK), totalSizeBytes: String(data.length) }, () => res()));
          sent++;
        }
        call.end();
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    );
    client = new NodeSessionServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    server?.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  const cache = (sub: string) =>
    new EggCache(join(dir, sub), () => ({ client, metadata: new grpc.Metadata() }), pino({ level: 'silent' }), 10_000);

  it('resumes a broken download from the bytes it has, and shares one download between jobs', async () => {
    calls.length = 0;
    plan = [{ breakAfter: 2 }, undefined];
    const eggs = cache('resume');
    const [a, b] = await Promise.all([eggs.get(SHA, EGG.length), eggs.get(SHA, EGG.length)]);
    assert.equal(a, b);
    assert.deepEqual(await readFile(a), EGG);
    assert.equal(calls.length, 2, 'one download (shared), retried once');
    assert.equal(calls[0]!.offset, 0);
    assert.ok(calls[1]!.offset > 0 && calls[1]!.offset <= 2 * CHUNK && calls[1]!.offset % CHUNK === 0, `resumed at ${calls[1]!.offset}`);
    assert.deepEqual(await readdir(join(dir, 'resume')), [`${SHA}.egg`]);
    await eggs.get(SHA, EGG.length);
    assert.equal(calls.length, 2, 'a cached egg is reused');
  });

  it('throws a corrupt egg away and downloads it again', async () => {
    calls.length = 0;
    plan = [{ corrupt: true }, undefined];
    const path = await cache('corrupt').get(SHA, EGG.length);
    assert.deepEqual(await readFile(path), EGG);
    assert.deepEqual(calls, [{ offset: 0 }, { offset: 0 }]);
  });
});
