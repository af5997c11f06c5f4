/** The Job API beyond dispatch: log tail over gRPC, listing with filters, node sessions as resources. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { JobServiceClient, type ReadJobLogResponse } from '../../gen/scrapydd/v1/job.js';
import { testDatabaseKinds } from '../support/databases.js';
import { ADMIN, registerNode, rest, scrapyd, startDispatchEnv, type DispatchEnv } from '../support/dispatch-harness.js';
import { SimAgent, waitFor } from '../support/sim-agent.js';

for (const kind of testDatabaseKinds()) {
  describe(`Job API (${kind})`, () => {
    let env: DispatchEnv;
    let agent: SimAgent;
    let jobs: JobServiceClient;

    before(async () => {
      env = await startDispatchEnv(kind);
      agent = new SimAgent({ address: env.servers[0]!.address, token: (await registerNode(env.servers[0]!)).token, runMs: Infinity });
      await agent.connect();
      jobs = new JobServiceClient(env.servers[0]!.address, grpc.credentials.createInsecure());
    });
    after(async () => {
      jobs.close();
      agent.close();
      await env.close();
    });

    it('tails a running job\'s log over gRPC until the job ends', async () => {
      const key = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'alpha' })).jobid);
      await waitFor('assignment', 5000, () => agent.assignments.length, (n) => n === 1);
      const name = agent.assignments[0]!.job;
      const md = new grpc.Metadata();
      md.set('authorization', ADMIN);
      const stream = jobs.readJobLog({ name, firstLine: '0', follow: true }, md);
      const received: string[] = [];
      stream.on('data', (m: ReadJobLogResponse) => received.push(...m.lines));
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      await waitFor('the first line', 5000, () => received.length, (n) => n === 1);
      agent.send({ event: { $case: 'jobLogLines', jobLogLines: { job: name, firstLine: '1', lines: ['second', 'third'] } } });
      await waitFor('the new lines', 5000, () => received.length, (n) => n === 3);
      agent.finish(name, 'SUCCEEDED');
      await ended;
      assert.deepEqual(received, [`started ${name}`, 'second', 'third']);
      const log = await fetch(`${env.servers[0]!.baseUrl}/logs/quotes/alpha/${key}.log`, { headers: { authorization: ADMIN } });
      assert.equal(await log.text(), `started ${name}\nsecond\nthird\n`);
    });

    it('lists jobs across spiders with a state filter, newest first, paginated', async () => {
      for (const spider of ['beta', 'gamma']) await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider, jobid: `listed-${spider}` });
      await waitFor('beta assigned', 5000, () => agent.assignments.length, (n) => n === 2);
      const pending = await rest(env.servers[0]!, 'GET', '/v1/projects/-/spiders/-/jobs?filter=state%20%3D%20PENDING');
      assert.deepEqual((pending.body.jobs as { name: string }[]).map((j) => j.name), ['projects/quotes/spiders/gamma/jobs/listed-gamma']);
      const first = await rest(env.servers[0]!, 'GET', '/v1/projects/quotes/spiders/-/jobs?pageSize=2');
      const names = (first.body.jobs as { name: string }[]).map((j) => j.name.split('/').pop());
      assert.deepEqual(names, ['listed-gamma', 'listed-beta']);
      const second = await rest(env.servers[0]!, 'GET', `/v1/projects/quotes/spiders/-/jobs?pageSize=2&pageToken=${first.body.nextPageToken}`);
      assert.equal((second.body.jobs as unknown[]).length, 1);
      const bad = await rest(env.servers[0]!, 'GET', '/v1/projects/-/spiders/-/jobs?filter=state%20%3D%20DONE');
      assert.equal(bad.status, 400);
      assert.match(String((bad.body.error as { message: string }).message), /unknown job state 'DONE'/);
      const cancel = await rest(env.servers[0]!, 'POST', '/v1/projects/quotes/spiders/gamma/jobs/listed-gamma:cancel', {});
      assert.equal(cancel.body.state, 'CANCELLED');
    });

    it('shows node sessions as resources to admins', async () => {
      const list = await rest(env.servers[0]!, 'GET', '/v1/nodeSessions');
      const sessions = list.body.nodeSessions as { name: string; node: string; active?: boolean }[];
      const mine = sessions.find((s) => s.node === agent.node && s.active);
      assert.ok(mine, JSON.stringify(sessions));
      const one = await rest(env.servers[0]!, 'GET', `/v1/${mine.name}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.node, agent.node);
      const node = await rest(env.servers[0]!, 'GET', `/v1/${agent.node}`);
      assert.equal(node.body.isOnline, true);
      assert.equal(node.body.runningJobs, 1);
    });
  });
}
