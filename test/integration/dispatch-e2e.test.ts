/**
 * Push dispatch through real server processes with simulated agents (the
 * real NodeSession protocol, a no-op runner): assignment at once, cancel,
 * silent agents, re-adoption after a reconnect, exactly-once claims across
 * two servers on one PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDatabaseKinds } from '../support/databases.js';
import { jobState, registerNode, rest, scrapyd, setSpider, startDispatchEnv, type DispatchEnv } from '../support/dispatch-harness.js';
import { SimAgent, waitFor } from '../support/sim-agent.js';

const jobKey = (name: string) => name.split('/').pop()!;

for (const kind of testDatabaseKinds()) {
  describe(`push dispatch (${kind})`, () => {
    let env: DispatchEnv;
    const agents: SimAgent[] = [];
    const agent = async (opts: Omit<ConstructorParameters<typeof SimAgent>[0], 'address'>, server = env.servers[0]!) => {
      const a = new SimAgent({ address: server.address, ...opts });
      agents.push(a);
      await a.connect();
      return a;
    };

    before(async () => {
      env = await startDispatchEnv(kind);
    });
    after(async () => {
      for (const a of agents) a.close();
      await env.close();
    });

    it('pushes a scheduled job to an idle agent at once and records its end', async () => {
      const { token } = await registerNode(env.servers[0]!);
      const a = await agent({ token, runMs: 50, items: 3 });
      const t0 = Date.now();
      const res = await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'alpha', url: 'http://127.0.0.1:1/' });
      assert.equal(res.status, 'ok');
      const key = String(res.jobid);
      await waitFor('assignment', 5000, () => a.assignments.length, (n) => n === 1);
      assert.equal(jobKey(a.assignments[0]!.job), key);
      assert.ok(a.assignments[0]!.at - t0 < 2000, `assigned after ${a.assignments[0]!.at - t0} ms`);
      await waitFor('SUCCEEDED', 5000, () => jobState(env.servers[0]!, 'alpha', key), (s) => s === 'SUCCEEDED');
      const { body } = await rest(env.servers[0]!, 'GET', `/v1/projects/quotes/spiders/alpha/jobs/${key}`);
      assert.equal(body.itemCount, '3');
      assert.equal(body.node, a.node);
      const items = await fetch(`${env.servers[0]!.baseUrl}/items/quotes/alpha/${key}.jl`, { headers: { authorization: (await import('../support/dispatch-harness.js')).ADMIN } });
      assert.equal(await items.text(), '{"i":0}\n{"i":1}\n{"i":2}\n');
      const status = await scrapyd(env.servers[0]!, 'status.json', { job: key }, 'GET');
      assert.equal(status.currstate, 'finished');
      const list = await scrapyd(env.servers[0]!, 'listjobs.json', { project: 'quotes' }, 'GET');
      assert.deepEqual(Object.keys(list).sort(), ['finished', 'node_name', 'pending', 'running', 'status']);
      const finished = (list.finished as Record<string, unknown>[]).find((j) => j.id === key)!;
      assert.deepEqual(Object.keys(finished).sort(), ['end_time', 'id', 'items_url', 'log_url', 'project', 'spider', 'start_time']);
      assert.equal(finished.log_url, `/logs/quotes/alpha/${key}.log`);
      assert.match(String(finished.start_time), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      const daemon = await scrapyd(env.servers[0]!, 'daemonstatus.json', {}, 'GET');
      assert.equal(daemon.finished, 1);
      a.close();
    });

    it('cancels a running job on its agent, and a pending one in the queue', async () => {
      const { token } = await registerNode(env.servers[0]!);
      const a = await agent({ token, runMs: Infinity });
      const running = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'beta' })).jobid);
      await waitFor('assignment', 5000, () => a.assignments.length, (n) => n === 1);
      const pending = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'beta' })).jobid);
      const c1 = await scrapyd(env.servers[0]!, 'cancel.json', { project: 'quotes', job: pending });
      assert.equal(c1.prevstate, 'pending');
      assert.equal(await jobState(env.servers[0]!, 'beta', pending), 'CANCELLED');
      const c2 = await scrapyd(env.servers[0]!, 'cancel.json', { project: 'quotes', job: running });
      assert.equal(c2.prevstate, 'running');
      await waitFor('cancel order', 5000, () => a.cancels, (c) => c.includes(running));
      await waitFor('CANCELLED', 5000, () => jobState(env.servers[0]!, 'beta', running), (s) => s === 'CANCELLED');
      assert.equal(a.assignments.length, 1, 'the cancelled pending job never reached the agent');
      a.close();
    });

    it('marks the jobs of a silent agent LOST and retries them elsewhere when the spider allows', async () => {
      await setSpider(env.servers[0]!, 'gamma', { retries: 1 });
      const silent = await agent({ token: (await registerNode(env.servers[0]!)).token, runMs: Infinity, heartbeat: false });
      const key = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'gamma' })).jobid);
      await waitFor('assignment', 5000, () => silent.assignments.length, (n) => n === 1);
      await waitFor('LOST', 15_000, () => jobState(env.servers[0]!, 'gamma', key), (s) => s === 'LOST');
      const healthy = await agent({ token: (await registerNode(env.servers[0]!)).token, runMs: 0 });
      await waitFor('the retry', 10_000, () => healthy.assignments.map((x) => jobKey(x.job)), (k) => k.includes(`${key}-r2`));
      await waitFor('retry SUCCEEDED', 5000, () => jobState(env.servers[0]!, 'gamma', `${key}-r2`), (s) => s === 'SUCCEEDED');
      const { body } = await rest(env.servers[0]!, 'GET', `/v1/projects/quotes/spiders/gamma/jobs/${key}-r2`);
      assert.equal(body.attempt, 2);
      silent.close();
      healthy.close();
      await setSpider(env.servers[0]!, 'gamma', { retries: 0 });
    });

    it('gives up a job its agent stops listing in heartbeats while the session stays open, and retries it; a listed job stays RUNNING', async () => {
      await setSpider(env.servers[0]!, 'gamma', { retries: 1 });
      const { node, token } = await registerNode(env.servers[0]!);
      const forgetful = await agent({ token, runMs: Infinity, slots: 2 });
      const key = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'gamma' })).jobid);
      await waitFor('assignment', 5000, () => forgetful.assignments.length, (n) => n === 1);
      forgetful.forget(forgetful.assignments[0]!.job);
      // heartbeat_interval = 1 s here: missing for 3 intervals.
      await waitFor('LOST', 15_000, () => jobState(env.servers[0]!, 'gamma', key), (s) => s === 'LOST');
      const lost = (await rest(env.servers[0]!, 'GET', `/v1/projects/quotes/spiders/gamma/jobs/${key}`)).body;
      assert.match(String(lost.closeReason), /missing from its heartbeats/);
      assert.equal(forgetful.ended, undefined, 'the session stays open');
      // The retry goes to the same agent, which lists it: it stays RUNNING over many heartbeats.
      await waitFor('the retry', 10_000, () => forgetful.assignments.map((x) => jobKey(x.job)), (k) => k.includes(`${key}-r2`));
      const retry = forgetful.assignments.find((x) => jobKey(x.job) === `${key}-r2`)!.job;
      // Heartbeats keep coming well past the 3 intervals (the node's last heartbeat moves 5 s on) and the retry stays.
      const heartbeatAt = async () => Date.parse(String((await rest(env.servers[0]!, 'GET', `/v1/${node}`)).body.lastHeartbeatTime));
      const from = await heartbeatAt();
      await waitFor('5 s of heartbeats', 15_000, heartbeatAt, (t) => t - from >= 5000, 250);
      assert.equal(await jobState(env.servers[0]!, 'gamma', `${key}-r2`), 'RUNNING');
      forgetful.finish(retry, 'SUCCEEDED');
      await waitFor('retry SUCCEEDED', 5000, () => jobState(env.servers[0]!, 'gamma', `${key}-r2`), (s) => s === 'SUCCEEDED');
      forgetful.close();
      await setSpider(env.servers[0]!, 'gamma', { retries: 0 });
    });

    it('re-adopts a running job after a reconnect and kills the jobs it no longer gives the agent', async () => {
      const { token } = await registerNode(env.servers[0]!);
      const first = await agent({ token, runMs: Infinity });
      const key = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'alpha' })).jobid);
      await waitFor('assignment', 5000, () => first.assignments.length, (n) => n === 1);
      const name = first.assignments[0]!.job;
      first.drop();
      const again = await agent({ token, runMs: Infinity, runningJobs: [name, 'projects/quotes/spiders/alpha/jobs/stale-one'] });
      const accepted = again.accepted;
      assert.equal(accepted?.$case, 'accepted');
      if (accepted?.$case === 'accepted') {
        assert.deepEqual(accepted.accepted.resume.map((r) => r.job), [name]);
        assert.equal(accepted.accepted.resume[0]!.logLinesReceived, '1');
      }
      await waitFor('kill order', 5000, () => again.kills, (k) => k.includes('stale-one'));
      assert.equal(await jobState(env.servers[0]!, 'alpha', key), 'RUNNING');
      again.finish(name, 'SUCCEEDED');
      await waitFor('SUCCEEDED', 5000, () => jobState(env.servers[0]!, 'alpha', key), (s) => s === 'SUCCEEDED');
      again.close();
    });

    it('replaces an older session of the same node with a newer one', async () => {
      const { token } = await registerNode(env.servers[0]!);
      const first = await agent({ token, runMs: 0 });
      const firstEnded = new Promise((resolve) => first.once('ended', resolve));
      const second = await agent({ token, runMs: 0 });
      await Promise.race([firstEnded, new Promise((_, reject) => setTimeout(() => reject(new Error('the old session is still open')), 5000))]);
      const key = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'alpha' })).jobid);
      await waitFor('SUCCEEDED on the new session', 5000, () => jobState(env.servers[0]!, 'alpha', key), (s) => s === 'SUCCEEDED');
      assert.equal(second.assignments.length, 1);
      assert.equal(first.assignments.length, 0);
      second.close();
    });

    it('ends the session of a node that is deleted, and refuses its token afterwards', async () => {
      const { node, token } = await registerNode(env.servers[0]!);
      const a = await agent({ token, runMs: 0 });
      const ended = new Promise((resolve) => a.once('ended', resolve));
      const del = await rest(env.servers[0]!, 'DELETE', `/v1/${node}`);
      assert.equal(del.status, 200, JSON.stringify(del.body));
      await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('session still open')), 5000))]);
      const again = new SimAgent({ address: env.servers[0]!.address, token });
      agents.push(again);
      await assert.rejects(again.connect(), /UNAUTHENTICATED/);
    });

    it('runs only the spider\'s concurrency at once on an agent with more slots', async () => {
      await setSpider(env.servers[0]!, 'beta', { concurrency: 2 });
      const a = await agent({ token: (await registerNode(env.servers[0]!)).token, runMs: 300, slots: 5 });
      let running = 0;
      let most = 0;
      a.on('assignment', () => {
        running++;
        most = Math.max(most, running);
        setTimeout(() => running--, 300);
      });
      const keys: string[] = [];
      for (let i = 0; i < 6; i++) keys.push(String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'beta' })).jobid));
      for (const k of keys) await waitFor(`job ${k}`, 15_000, () => jobState(env.servers[0]!, 'beta', k), (s) => s === 'SUCCEEDED');
      assert.equal(most, 2);
      a.close();
      await setSpider(env.servers[0]!, 'beta', { concurrency: 1 });
    });
  });
}

if (testDatabaseKinds().includes('postgres')) {
  describe('two servers on one PostgreSQL database', () => {
    let env: DispatchEnv;
    const agents: SimAgent[] = [];

    before(async () => {
      env = await startDispatchEnv('postgres', 2);
    });
    after(async () => {
      for (const a of agents) a.close();
      await env.close();
    });

    it('claims every job exactly once with agents on both servers', async () => {
      for (const spider of ['alpha', 'beta', 'gamma']) await setSpider(env.servers[0]!, spider, { concurrency: 100 });
      for (let i = 0; i < 4; i++) {
        const server = env.servers[i % 2]!;
        const a = new SimAgent({ address: server.address, token: (await registerNode(server)).token, runMs: 5, slots: 4 });
        agents.push(a);
        await a.connect();
      }
      const keys = new Set<string>();
      const spiders = ['alpha', 'beta', 'gamma'];
      await Promise.all(
        Array.from({ length: 120 }, async (_, i) => {
          const res = await scrapyd(env.servers[i % 2]!, 'schedule.json', { project: 'quotes', spider: spiders[i % 3]! });
          keys.add(String(res.jobid));
        }),
      );
      assert.equal(keys.size, 120);
      await waitFor('all assigned', 30_000, () => agents.reduce((n, a) => n + a.assignments.length, 0), (n) => n >= 120);
      const assigned = agents.flatMap((a) => a.assignments.map((x) => jobKey(x.job)));
      assert.equal(assigned.length, 120, 'no job assigned twice');
      assert.deepEqual(new Set(assigned), keys);
      // jobs queued on one server reached agents held by the other
      assert.ok(agents.every((a) => a.assignments.length > 0), agents.map((a) => a.assignments.length).join(','));
      await waitFor('all finished', 30_000, async () => (await scrapyd(env.servers[1]!, 'daemonstatus.json', {}, 'GET')).finished, (n) => n === 120);
    });
  });
}
