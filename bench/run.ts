/**
 * Benchmarks, printed as one JSON object: id generation, and call latency of
 * a real server (SQLite, authenticated) over REST, the scrapyd API and gRPC.
 * Run with `npm run bench` after `npm run build`.
 */
import * as grpc from '@grpc/grpc-js';
import { ProjectServiceClient } from '../gen/scrapydd/v1/project.js';
import { SnowflakeGenerator } from '../src/ids/snowflake.js';
import { createTestDatabase } from '../test/support/databases.js';
import { basic, startTestServer } from '../test/support/server-process.js';

function percentiles(samplesMs: number[]) {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3));
  return { n: s.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: at(1) };
}

async function timeCalls(n: number, call: () => Promise<void>) {
  for (let i = 0; i < 20; i++) await call(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return percentiles(samples);
}

function snowflakes() {
  const gen = new SnowflakeGenerator(1);
  const n = 1_000_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) gen.nextBigInt();
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { ids: n, seconds: Number(seconds.toFixed(3)), idsPerSecond: Math.round(n / seconds) };
}

async function serverCalls() {
  const db = await createTestDatabase('sqlite');
  const server = await startTestServer({ databaseUrl: db.url });
  try {
    await server.cli(['adduser', 'bench', '--admin'], 'bench-password\n');
    const auth = basic('bench', 'bench-password');
    const rest = await timeCalls(500, async () => {
      const res = await fetch(`${server.baseUrl}/v1/projects`, { headers: { authorization: auth } });
      if (res.status !== 200) throw new Error(`REST ${res.status}`);
      await res.arrayBuffer();
    });
    const scrapyd = await timeCalls(500, async () => {
      const res = await fetch(`${server.baseUrl}/listprojects.json`, { headers: { authorization: auth } });
      if (res.status !== 200) throw new Error(`scrapyd ${res.status}`);
      await res.arrayBuffer();
    });
    const client = new ProjectServiceClient(server.address, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set('authorization', auth);
    const grpcLatency = await timeCalls(500, () => new Promise<void>((res, rej) => client.listProjects({ pageSize: 0, pageToken: '' }, md, (err) => (err ? rej(err) : res()))));
    client.close();
    return { restListProjects: rest, scrapydListProjects: scrapyd, grpcListProjects: grpcLatency };
  } finally {
    await server.stop();
    await db.drop();
  }
}

const result = { snowflake: snowflakes(), ...(await serverCalls()) };
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
