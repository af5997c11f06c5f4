/**
 * The "done when": an every-minute trigger (`*\/1 * * * *`) in Asia/Kolkata fires once
 * a minute, at the minute, into a job (with its trigger set) that a real
 * agent runs to SUCCEEDED. On PostgreSQL two real servers share the database
 * and both run a trigger clock; on SQLite one server. Both setups share one
 * run window (two fires each) to keep the wall time down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { removeAgentDir, startTestAgent, type TestAgent } from '../support/agent-process.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase, type TestDatabaseKind } from '../support/databases.js';
import { TEST_PYTHON } from '../support/eggs.js';
import { request, type JsonObject } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/server-process.js';
import { waitFor } from '../support/sim-agent.js';

/** Two fires take at most two minutes after the trigger exists; the jobs then run. */
const FIRES_DEADLINE_MS = 150_000;
/** How far after its minute a job may be created. */
const ON_TIME_MS = 3000;

interface Setup {
  kind: TestDatabaseKind;
  db: TestDatabase;
  servers: TestServer[];
  agent: TestAgent;
}

describe('cron triggers end to end', () => {
  const setups: Setup[] = [];
  let site: PageSite;

  before(async () => {
    site = await startPageSite(1);
    await Promise.all(testDatabaseKinds().map(async (kind) => {
      const db = await createTestDatabase(kind);
      const settings = { enable_authentication: 'false', runner_python: TEST_PYTHON, heartbeat_interval: '1', node_timeout: '4' };
      const servers = [await startTestServer({ databaseUrl: db.url, settings })];
      setups.push({ kind, db, servers, agent: undefined as never });
      if (kind === 'postgres') servers.push(await startTestServer({ databaseUrl: db.url, settings }));
      await uploadQuotes(servers[0]!, undefined);
      const agent = await startTestAgent({ servers: [servers[0]!.address], settings: { slots: '2' } });
      setups.find((s) => s.db === db)!.agent = agent;
      await agent.waitForLog((e) => e.msg === 'session accepted', 30_000, `${kind} agent session`);
    }));
  });
  after(async () => {
    for (const s of setups) {
      await s.agent?.stop().catch(() => undefined);
      if (s.agent) await removeAgentDir(s.agent).catch(() => undefined);
      for (const server of s.servers) await server.stop();
      await s.db.drop();
    }
    await site?.close();
  });

  it('fires */1 in Asia/Kolkata once a minute, at the minute, into jobs an agent runs to SUCCEEDED', async () => {
    await Promise.all(setups.map(async ({ kind, servers }) => {
      // created on the last server: on PostgreSQL the other server's clock learns of it by its periodic re-read
      const created = await request(servers[servers.length - 1]!, 'POST', '/v1/projects/quotes/spiders/alpha/triggers', {
        json: { cron: '*/1 * * * *', timeZone: 'Asia/Kolkata', args: { url: site.url } },
      });
      assert.equal(created.status, 200, created.text);
      const trigger = created.json.name as string;
      const mine = async () =>
        ((await request(servers[0]!, 'GET', '/v1/projects/quotes/spiders/alpha/jobs?pageSize=100')).json.jobs as JsonObject[] | undefined ?? [])
          .filter((j) => j.trigger === trigger)
          .reverse();
      const jobs = await waitFor(`${kind}: two fires`, FIRES_DEADLINE_MS, mine, (js) => js.length >= 2, 250);
      for (const job of jobs) {
        const created = Date.parse(job.createTime as string);
        assert.ok(created % 60_000 < ON_TIME_MS, `${kind}: ${job.name} created at ${String(job.createTime)}, not at its minute`);
      }
      const minutes = jobs.map((j) => Math.floor(Date.parse(j.createTime as string) / 60_000));
      assert.equal(minutes[1]! - minutes[0]!, 1, `${kind}: fires a minute apart`);
      for (const job of jobs) {
        const key = (job.name as string).split('/').pop()!;
        const done = await waitForJob(() => servers[0]!, undefined, 'alpha', key, (j) => j.state === 'SUCCEEDED', 60_000, 'SUCCEEDED');
        assert.equal(done.args && (done.args as JsonObject).url, site.url);
      }
      // exactly one job per fire time: by now a duplicate from any server would be listed
      const all = await mine();
      assert.deepEqual(all.map((j) => Math.floor(Date.parse(j.createTime as string) / 60_000)), [...new Set(all.map((j) => Math.floor(Date.parse(j.createTime as string) / 60_000)))], `${kind}: ${JSON.stringify(all.map((j) => j.createTime))}`);
      const t = (await request(servers[0]!, 'GET', `/v1/${trigger}`)).json;
      assert.equal(t.lastOutcome, 'QUEUED');
      assert.ok(Date.parse(t.nextFireTime as string) > Date.parse(t.lastFireTime as string));
      const fired = servers.flatMap((s) => s.logs.filter((l) => l.includes('"trigger fired"') && l.includes(trigger.split('/').pop()!)));
      assert.ok(fired.length >= 2, `${kind}: each fire is logged: ${fired.length}`);
    }));
  });
});
