/**
 * The "done when", as one scenario over the TLS port of a server
 * with client_validation = true, certificates made by `scrapydd cert`: a
 * project deployed with curl (addversion.json over HTTPS), an agent
 * registered with `scrapydd agent -g` and started with `scrapydd agent` and
 * its client certificate (mTLS), a crawl scheduled with schedule.json that
 * listjobs.json shows finished, and cancel.json stopping a slow crawl. Every
 * scrapyd call is made with curl. Once per database kind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createNodeKeyWithCli, lines } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { agentWorkDir, registerAgent, startTestAgent, type LogEntry, type TestAgent } from '../support/agent-process.js';
import { curl } from '../support/curl.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { buildEgg, TEST_PYTHON } from '../support/eggs.js';
import type { JsonObject } from '../support/http-client.js';
import { addUser, ADMIN } from '../support/http-harness.js';
import { freePort, runCli, startTestServer, writeConfig, type TestServer } from '../support/server-process.js';
import { waitFor } from '../support/sim-agent.js';

const DEADLINE_MS = 120_000;
const NODE_NAME = 'mtls-e2e';

/** `[agent]` key = value lines as `scrapydd cert client` prints them. */
function agentKeys(printed: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const m of printed.matchAll(/^(ca_file|cert_file|key_file) = (.+)$/gm)) keys[m[1]!] = m[2]!;
  assert.deepEqual(Object.keys(keys).sort(), ['ca_file', 'cert_file', 'key_file'], printed);
  return keys;
}

for (const kind of testDatabaseKinds()) {
  describe(`done when: curl, agent -g and scrapyd's job API over mTLS (${kind})`, () => {
    let db: TestDatabase;
    let workDir: string;
    let agentDir: string;
    let server: TestServer;
    let base: string;
    let tlsServer: string;
    let agent: TestAgent | undefined;
    /** What curl needs to pass the handshake (a CA-signed certificate) and to act as the admin. */
    let operator: Record<string, string>;
    let node = '';
    let nodeKeys: Record<string, string> = {};
    const sites: PageSite[] = [];

    /** curl as the admin over the TLS port; `path` is relative to https://localhost:<https_port>/. */
    const curlAdmin = async (path: string, ...args: string[]) => {
      const reply = await curl(['--cacert', operator.ca_file!, '--cert', operator.cert_file!, '--key', operator.key_file!,
        '-u', `${ADMIN.name}:${ADMIN.password}`, ...args, `${base}/${path}`]);
      assert.equal(reply.exitCode, 0, `curl ${path}: ${reply.stderr}`);
      assert.equal(reply.version, '1.1');
      return reply;
    };
    const scrapyd = async (path: string, ...args: string[]) => {
      const reply = await curlAdmin(path, ...args);
      assert.equal(reply.status, 200, reply.body);
      assert.equal(reply.json.status, 'ok', reply.body);
      return reply.json;
    };
    const listjobs = () => scrapyd('listjobs.json?project=quotes');
    const ids = (entries: unknown) => (entries as JsonObject[]).map((j) => j.id as string);
    const job = async (spider: string, id: string) => (await curlAdmin(`v1/projects/quotes/spiders/${spider}/jobs/${id}`)).json;
    const accepted = (e: LogEntry) => e.msg === 'session accepted' && e.node === node;

    before(async () => {
      db = await createTestDatabase(kind);
      workDir = await mkdtemp(join(tmpdir(), 'scrapydd-mtls-'));
      agentDir = await agentWorkDir();
      // The server's keys/: a CA and a certificate for localhost, made by the CLI in the server's directory.
      await writeConfig(workDir, db.url, await freePort());
      for (const args of [['cert', 'ca'], ['cert', 'server']]) {
        const made = await runCli(workDir, args);
        assert.equal(made.code, 0, made.stderr);
      }
      // `scrapydd cert client` makes node certificates only: the operator's (for curl, and for the
      // agent's registration, which needs some CA-signed certificate to pass the handshake) names a node
      // that never exists; Basic credentials win over it, and node registration ignores it.
      const op = await runCli(workDir, ['cert', 'client', '--node', 'nodes/1', '--out', join(workDir, 'operator')]);
      assert.equal(op.code, 0, op.stderr);
      operator = agentKeys(op.stdout);
      const httpsPort = await freePort();
      base = `https://localhost:${httpsPort}`;
      tlsServer = `localhost:${httpsPort}`;
      server = await startTestServer({
        databaseUrl: db.url,
        workDir,
        settings: { https_port: String(httpsPort), client_validation: 'true', runner_python: TEST_PYTHON, node_name: NODE_NAME },
      });
      await addUser(server, ADMIN);
    });
    after(async () => {
      for (const s of sites) await s.close();
      await agent?.stop();
      await server?.stop();
      await db?.drop();
      await rm(workDir, { recursive: true, force: true });
      await rm(agentDir, { recursive: true, force: true });
    });

    it('deploys the quotes project with curl: addversion.json over HTTPS with a client certificate', async () => {
      const egg = await buildEgg('quotes');
      const added = await scrapyd('addversion.json', '-F', 'project=quotes', '-F', 'version=r1', '-F', `egg=@${egg}`);
      assert.deepEqual(added, { node_name: NODE_NAME, status: 'ok', project: 'quotes', version: 'r1', spiders: 3 });
      const spiders = await scrapyd('listspiders.json?project=quotes');
      assert.deepEqual(spiders.spiders, ['alpha', 'beta', 'gamma']);
      // Without a client certificate the TLS port refuses curl at the handshake.
      const refused = await curl(['--cacert', operator.ca_file!, '-u', `${ADMIN.name}:${ADMIN.password}`, `${base}/listprojects.json`]);
      assert.notEqual(refused.exitCode, 0);
      assert.equal(refused.status, 0, refused.body);
    });

    it('registers the agent permanently with scrapydd agent -g over the TLS port', async () => {
      const key = await createNodeKeyWithCli(server);
      const settings = { ca_file: operator.ca_file!, cert_file: operator.cert_file!, key_file: operator.key_file! };
      const result = await registerAgent({ servers: [tlsServer], workDir: agentDir, settings }, `${key.name}\n${key.secret}\n`);
      assert.equal(result.code, 0, result.stderr);
      node = /registered (nodes\/\d+)/.exec(result.stdout)?.[1] ?? '';
      assert.notEqual(node, '', result.stdout);
      const nodes = (await curlAdmin('v1/nodes')).json.nodes as JsonObject[];
      assert.deepEqual(nodes.map((n) => [n.name, n.temporary ?? false]), [[node, false]]);
    });

    it('runs a schedule.json crawl on that agent, started with its client certificate; listjobs.json shows it finished', { timeout: 200_000 }, async () => {
      assert.notEqual(node, '', 'registered');
      // The server's admin makes the node's certificate; the agent uses it from then on (mTLS).
      const cert = await server.cli(['cert', 'client', '--node', node, '--out', join(agentDir, 'tls')]);
      assert.equal(cert.code, 0, cert.stderr);
      nodeKeys = agentKeys(cert.stdout);
      agent = await startTestAgent({ servers: [tlsServer], workDir: agentDir, settings: nodeKeys });
      await agent.waitForLog(accepted, 30_000, `SessionAccepted for ${node}`);

      const site = await startPageSite(3);
      sites.push(site);
      const scheduled = await scrapyd('schedule.json', '-d', 'project=quotes', '-d', 'spider=alpha', '-d', `url=${site.url}`);
      const id = scheduled.jobid as string;
      assert.deepEqual(scheduled, { node_name: NODE_NAME, status: 'ok', jobid: id });
      const listed = await waitFor('listjobs.json to show the job finished', DEADLINE_MS, listjobs, (l) => ids(l.finished).includes(id), 250);
      const entry = (listed.finished as JsonObject[]).find((j) => j.id === id)!;
      assert.deepEqual([entry.spider, entry.log_url, entry.items_url], ['alpha', `/logs/quotes/alpha/${id}.log`, `/items/quotes/alpha/${id}.jl`]);
      assert.deepEqual([ids(listed.pending), ids(listed.running)], [[], []]);
      const done = await job('alpha', id);
      assert.deepEqual([done.state, done.node], ['SUCCEEDED', node], 'run by the agent');

      const items = lines((await curlAdmin(entry.items_url.slice(1) as string)).body).map((l) => JSON.parse(l) as { url: string });
      assert.deepEqual(items.map((i) => i.url).sort(), [0, 1, 2].map((n) => site.url.replace(/0$/, String(n))));
      const log = (await curlAdmin(entry.log_url.slice(1) as string)).body;
      assert.equal(String(lines(log).length), done.logLineCount);
      assert.match(log, /Spider closed \(finished\)/);
    });

    it('cancel.json stops a second, slow crawl on the agent signed in by its certificate alone', { timeout: 200_000 }, async () => {
      assert.ok(agent, 'running');
      // Restarted without its node file, the agent's only credential is its client certificate.
      await agent.stop();
      agent = await startTestAgent({
        servers: [tlsServer],
        workDir: agentDir,
        settings: { ...nodeKeys, node_file: join(agentDir, 'no-node-file.json') },
      });
      await agent.waitForLog((e) => e.msg === 'no node file: signing in with the client certificate', 30_000, 'a certificate sign-in');
      await agent.waitForLog(accepted, 30_000, `SessionAccepted for ${node}`);

      const site = await startPageSite(50, { delayMs: 200 });
      sites.push(site);
      const id = (await scrapyd('schedule.json', '-d', 'project=quotes', '-d', 'spider=gamma', '-d', `url=${site.url}`)).jobid as string;
      await waitFor('listjobs.json to show the job running', DEADLINE_MS, listjobs, (l) => ids(l.running).includes(id), 250);
      const running = await waitFor('two items', DEADLINE_MS, () => job('gamma', id), (j) => Number(j.itemCount) >= 2, 250);
      assert.deepEqual([running.state, running.node], ['RUNNING', node]);
      assert.deepEqual(await scrapyd('status.json?project=quotes&job=' + id), { node_name: NODE_NAME, status: 'ok', currstate: 'running' });

      const cancelled = await scrapyd('cancel.json', '-d', 'project=quotes', '-d', `job=${id}`);
      assert.deepEqual(cancelled, { node_name: NODE_NAME, status: 'ok', prevstate: 'running' });
      await waitFor('listjobs.json to show the job finished', DEADLINE_MS, listjobs, (l) => ids(l.finished).includes(id), 250);
      const ended = await job('gamma', id);
      assert.deepEqual([ended.state, ended.closeReason, ended.node], ['CANCELLED', 'cancelled', node]);
      const items = lines((await curlAdmin(`items/quotes/gamma/${id}.jl`)).body);
      assert.equal(String(items.length), ended.itemCount);
      assert.ok(items.length >= 2 && items.length < site.pages, `${items.length} items`);
      assert.match((await curlAdmin(`logs/quotes/gamma/${id}.log`)).body, /Received SIGINT, shutting down gracefully/);
    });
  });
}
