/**
 * Dispatch benchmark: 100 simulated agents (real NodeSession streams, no-op
 * runner) on one server; after a warm-up round, schedule → assignment
 * latency (sequential schedules, idle agents) and throughput (schedule →
 * complete, BENCH_JOBS jobs, default 10,000) on PostgreSQL and SQLite.
 * Prints JSON.
 */
import http from 'node:http';
import { type TestDatabaseKind } from '../test/support/databases.js';
import { setSpider, scrapyd, startDispatchEnv } from '../test/support/dispatch-harness.js';
import type { TestServer } from '../test/support/server-process.js';
import { SimAgent, waitFor } from '../test/support/sim-agent.js';

const AGENTS = 100;
const LATENCY_JOBS = 300;
const WARMUP_JOBS = 2000;
const THROUGHPUT_JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const CLIENTS = 16;

/**
 * schedule.json over kept-alive node:http connections: a lean client, so
 * that the numbers are the server's (fetch adds about a millisecond a call).
 */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
function schedule(server: TestServer, spider: string): Promise<string> {
  const body = new URLSearchParams({ project: 'quotes', spider }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path: '/schedule.json', method: 'POST', agent: keepAlive,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const reply = JSON.parse(text) as { status: string; jobid?: string };
          if (reply.status === 'ok' && reply.jobid) resolve(reply.jobid);
          else reject(new Error(`schedule.json: ${text}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function pct(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2));
  return { n: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

async function run(kind: TestDatabaseKind) {
  // The server's default liveness (heartbeats every 3 s), not the tests' fast one.
  const env = await startDispatchEnv(kind, 1, { enable_authentication: 'false', heartbeat_interval: '3', node_timeout: '15', cancel_grace: '30' });
  const server = env.servers[0]!;
  const agents: SimAgent[] = [];
  try {
    for (const spider of ['alpha', 'beta', 'gamma']) await setSpider(server, spider, { concurrency: 1000 });
    for (let i = 0; i < AGENTS; i++) {
      const a = new SimAgent({ address: server.address, runMs: 0, slots: 4 });
      agents.push(a);
      await a.connect();
    }
    const assignedAt = new Map<string, number>();
    let onAssigned: (() => void) | undefined;
    for (const a of agents) {
      a.on('assignment', (job: string) => {
        assignedAt.set(job.split('/').pop()!, performance.now());
        onAssigned?.();
      });
    }

    const assigned = () => agents.reduce((n, a) => n + a.assignments.length, 0);
    /** `jobs` scheduled by CLIENTS clients; resolves when every job has been assigned, run and reported finished. */
    const throughputRound = async (jobs: number, spider: string) => {
      const before = assigned();
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < jobs) {
            next++;
            await schedule(server, spider);
          }
        }),
      );
      const scheduledMs = performance.now() - t0;
      // Finished jobs are pruned (jobs_to_keep), so count assignments and wait for an empty queue.
      await waitFor('all assigned', 300_000, () => assigned(), (n) => n >= before + jobs);
      await waitFor('all finished', 300_000, async () => scrapyd(server, 'daemonstatus.json', {}, 'GET'), (d) => d.pending === 0 && d.running === 0);
      return { scheduledMs, totalMs: performance.now() - t0 };
    };

    // Warm-up (not measured): V8 compiles the hot paths in the first seconds.
    await throughputRound(WARMUP_JOBS, 'gamma');

    // Latency: one job at a time into idle agents.
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_JOBS; i++) {
      const t = performance.now();
      const key = await schedule(server, 'alpha');
      while (!assignedAt.has(key)) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`job ${key} was not assigned within 10 s`)), 10_000);
          onAssigned = () => (clearTimeout(timer), resolve());
        });
      }
      latencies.push(assignedAt.get(key)! - t);
    }

    // Throughput: many clients scheduling; until every job has finished.
    const { scheduledMs, totalMs } = await throughputRound(THROUGHPUT_JOBS, 'beta');
    return {
      agents: AGENTS,
      scheduleToAssignment: pct(latencies),
      throughput: { jobs: THROUGHPUT_JOBS, clients: CLIENTS, scheduleJobsPerSecond: Math.round(THROUGHPUT_JOBS / (scheduledMs / 1000)), completeJobsPerSecond: Math.round(THROUGHPUT_JOBS / (totalMs / 1000)) },
    };
  } finally {
    for (const a of agents) a.close();
    await env.close();
  }
}

const kinds = (process.env.BENCH_DATABASES ?? 'postgres,sqlite').split(',') as TestDatabaseKind[];
const result: Record<string, unknown> = {};
for (const kind of kinds) result[kind] = await run(kind);
process.stdout.write(`${JSON.stringify({ dispatch: result }, null, 2)}\n`);
