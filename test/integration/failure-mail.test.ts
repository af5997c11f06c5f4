/**
 * Failure e-mail end to end: real server processes with job_fail_send_mail
 * on, jobs ended through the agent report path by simulated agents (the
 * real NodeSession protocol) and by a real agent crawling with a spider that
 * raises, an SMTP sink on 127.0.0.1. One mail per job that fails for good
 * (FAILED or LOST, no retry queued), to every receiver; kept and retried
 * while the SMTP server is down; AUTH with smtp_user and smtp_passwd, the
 * password never logged; smtp_tls = tls and starttls against a TLS sink,
 * with the certificate verified; start-up refused without smtp_server. Once
 * per database kind (TLS on SQLite only: it does not touch the database).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import { mailsOfJob } from '../../src/storage/mail-outbox-repo.js';
import { schedule, uploadProject } from '../support/agent-jobs.js';
import { startPageSite, type PageSite } from '../support/agent-pages.js';
import { removeAgentDir, startTestAgent, type TestAgent } from '../support/agent-process.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { TEST_PYTHON } from '../support/eggs.js';
import { FAST_LIVENESS, jobState, registerNode, scrapyd, setSpider, startDispatchEnv, type DispatchEnv } from '../support/dispatch-harness.js';
import { freePort, runCli, startTestServer, writeConfig, type TestServer } from '../support/server-process.js';
import { SimAgent, waitFor } from '../support/sim-agent.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink.js';

const RECEIVERS = ['ops@example.com', 'oncall@example.org'];
const FROM = 'scrapydd@example.com';
const mailSettings = (port: number, extra: Record<string, string> = {}) => ({
  job_fail_send_mail: 'true',
  smtp_server: '127.0.0.1',
  smtp_port: String(port),
  smtp_from: `Scrapydd Test <${FROM}>`,
  job_fail_mail_receiver: RECEIVERS.join(', '),
  ...extra,
});
const subjectOf = (key: string, what = 'failed', spider = 'alpha') => `[scrapydd] job ${what}: quotes/${spider} ${key}`;

/** The mails whose subject is exactly `subject`. */
const mailsWith = (sink: SmtpSink, subject: string): ReceivedMail[] => sink.mails.filter((m) => m.subject === subject);

/** Schedules a job of `spider`, waits for `agent` to get it, ends it as `state`; returns its key. */
async function runJob(env: DispatchEnv, agent: SimAgent, spider: string, state: 'SUCCEEDED' | 'FAILED', before?: (name: string) => void): Promise<string> {
  const server = env.servers[0]!;
  const key = String((await scrapyd(server, 'schedule.json', { project: 'quotes', spider })).jobid);
  const name = await waitFor(`assignment of ${key}`, 10_000, () => agent.assignments.find((a) => a.job.endsWith(`/jobs/${key}`))?.job);
  await endJob(env, agent, spider, name!, state, before);
  return key;
}

async function endJob(env: DispatchEnv, agent: SimAgent, spider: string, name: string, state: 'SUCCEEDED' | 'FAILED', before?: (name: string) => void) {
  const key = name.split('/').pop()!;
  // The start report is applied before the end (one stream, in order); wait for it so the log lines count.
  await waitFor(`${key} RUNNING`, 10_000, () => jobState(env.servers[0]!, spider, key), (s) => s === 'RUNNING');
  before?.(name);
  agent.finish(name, state);
  await waitFor(`${key} ${state}`, 10_000, () => jobState(env.servers[0]!, spider, key), (s) => s === state);
}

for (const kind of testDatabaseKinds()) {
  describe(`failure e-mail (${kind})`, () => {
    let env: DispatchEnv;
    let db: Db;
    let smtpPort: number;
    let sink: SmtpSink | undefined;
    let agent: SimAgent;
    const jobId = async (key: string) => (await jobsRepo.findJobByKey(db, key))!.id;

    before(async () => {
      smtpPort = await freePort();
      env = await startDispatchEnv(kind, 1, mailSettings(smtpPort));
      db = await openDatabase(parseDatabaseUrl(env.db.url));
      agent = new SimAgent({ address: env.servers[0]!.address, token: (await registerNode(env.servers[0]!)).token, runMs: Infinity, slots: 4 });
      await agent.connect();
    });
    after(async () => {
      agent?.close();
      await sink?.close();
      await db?.close();
      await env?.close();
    });

    it('keeps the mail while the SMTP server is down and sends it, once, when it answers', async () => {
      const key = await runJob(env, agent, 'alpha', 'FAILED');
      const id = await jobId(key);
      const [queued] = await waitFor('a failed attempt', 10_000, () => mailsOfJob(db, id), (m) => m.length === 1 && m[0]!.attempts >= 1 && m[0]!.lastError !== '');
      assert.equal(queued!.state, 'PENDING');
      assert.match(queued!.lastError, /ECONNREFUSED|connect/i);
      assert.ok(env.servers[0]!.logs.some((l) => l.includes('failure mail not sent; will retry')), 'the failed attempt is logged');

      sink = await startSmtpSink({ port: smtpPort });
      await waitFor('the mail', 15_000, () => mailsWith(sink!, subjectOf(key)).length, (n) => n === 1);
      const [sent] = await waitFor('SENT', 5_000, () => mailsOfJob(db, id), (m) => m[0]?.state === 'SENT');
      assert.ok(sent!.attempts >= 2, `attempts ${sent!.attempts}`);
      assert.ok(sent!.sentAt);
      assert.deepEqual(mailsWith(sink, subjectOf(key))[0]!.to, RECEIVERS);
    });

    it('sends one mail to each receiver for a FAILED job: its facts and the last 30 log lines, UTF-8 plain text', async () => {
      const extra = Array.from({ length: 40 }, (_, i) => `log line ${i + 1} – naïve ✓`);
      const key = await runJob(env, agent, 'alpha', 'FAILED', (name) =>
        agent.send({ event: { $case: 'jobLogLines', jobLogLines: { job: name, firstLine: '1', lines: extra } } }),
      );
      await waitFor('the mail', 10_000, () => mailsWith(sink!, subjectOf(key)).length, (n) => n === 1);
      const mail = mailsWith(sink!, subjectOf(key))[0]!;
      assert.deepEqual(mail.to, RECEIVERS, 'one message, every receiver in its envelope: each gets one');
      assert.equal(mail.from, FROM);
      assert.match(mail.headers.get('from')!, /Scrapydd Test/);
      assert.match(mail.headers.get('content-type')!, /^text\/plain; charset=utf-8/i);
      const lines = mail.text.split('\n');
      for (const line of [
        'Project:      quotes',
        'Spider:       alpha',
        `Job id:       ${key}`,
        `Job name:     projects/quotes/spiders/alpha/jobs/${key}`,
        'State:        FAILED',
        'Close reason: finished',
        'Exit code:    0',
        'Version:      r1',
        'Attempt:      1',
        'Items:        0',
        `Log:          /logs/quotes/alpha/${key}.log`,
        'Last 30 of 41 log lines:',
      ]) {
        assert.ok(lines.includes(line), `${line}\n--- in ---\n${mail.text}`);
      }
      assert.match(mail.text, /^Node: {9}\S+ \(nodes\/\d+\)$/m);
      assert.match(mail.text, /^Started: {6}\d{4}-\d\d-\d\dT/m);
      assert.match(mail.text, /^Ended: {8}\d{4}-\d\d-\d\dT/m);
      assert.deepEqual(lines.filter((l) => l.startsWith('log line ')), extra.slice(-30), 'the last 30 lines, in order, UTF-8 intact');
      // The path in the mail serves that log.
      const log = await fetch(`${env.servers[0]!.baseUrl}/logs/quotes/alpha/${key}.log`, { headers: { authorization: (await import('../support/dispatch-harness.js')).ADMIN } });
      assert.equal(log.status, 200);
      assert.match(await log.text(), /log line 40 – naïve ✓/);
    });

    it('queues nothing for a SUCCEEDED job', async () => {
      const ok = await runJob(env, agent, 'beta', 'SUCCEEDED');
      // The mail would be queued in the transaction that ended the job: now visible, or never.
      assert.deepEqual(await mailsOfJob(db, await jobId(ok)), []);
      const failed = await runJob(env, agent, 'beta', 'FAILED');
      await waitFor('the later failure\'s mail', 10_000, () => mailsWith(sink!, subjectOf(failed, 'failed', 'beta')).length, (n) => n === 1);
      assert.equal(sink!.mails.filter((m) => m.subject.includes(ok)).length, 0);
    });

    it('sends one mail for a job retried once and failing twice: for its last attempt', async () => {
      await setSpider(env.servers[0]!, 'gamma', { retries: 1 });
      const key = await runJob(env, agent, 'gamma', 'FAILED');
      const retry = await waitFor('the retry', 10_000, () => agent.assignments.find((a) => a.job.endsWith(`/jobs/${key}-r2`))?.job);
      assert.deepEqual(await mailsOfJob(db, await jobId(key)), [], 'no mail for an attempt that is retried');
      await endJob(env, agent, 'gamma', retry!, 'FAILED');
      await waitFor('the mail', 10_000, () => mailsWith(sink!, subjectOf(`${key}-r2`, 'failed', 'gamma')).length, (n) => n === 1);
      const mail = mailsWith(sink!, subjectOf(`${key}-r2`, 'failed', 'gamma'))[0]!;
      assert.ok(mail.text.split('\n').includes('Attempt:      2'), mail.text);
      assert.equal(sink!.mails.filter((m) => m.subject.includes(key)).length, 1, 'one mail for the two attempts');
    });

    it('sends one mail for a job LOST with its agent, saying so', async () => {
      agent.close(); // the silent agent below must get the job
      const silent = new SimAgent({ address: env.servers[0]!.address, token: (await registerNode(env.servers[0]!)).token, runMs: Infinity, heartbeat: false });
      try {
        await silent.connect();
        const key = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'alpha' })).jobid);
        await waitFor('assignment', 10_000, () => silent.assignments.length, (n) => n === 1);
        await waitFor('LOST', 15_000, () => jobState(env.servers[0]!, 'alpha', key), (s) => s === 'LOST');
        await waitFor('the mail', 10_000, () => mailsWith(sink!, subjectOf(key, 'lost')).length, (n) => n === 1);
        const mail = mailsWith(sink!, subjectOf(key, 'lost'))[0]!;
        assert.ok(mail.text.split('\n').includes('State:        LOST'), mail.text);
        assert.match(mail.text, /^A scrapydd job was lost/);
      } finally {
        silent.close();
      }
    });

    it('mails nothing and retries nothing for a job a user was stopping: failed before the stop took effect, or lost with its agent', async () => {
      const server = env.servers[0]!;
      await setSpider(server, 'beta', { retries: 1 });
      // An agent whose stop takes a while: a cancel leaves the job running on it.
      const stubborn = new SimAgent({ address: server.address, token: (await registerNode(server)).token, runMs: Infinity, onCancel: 'ignore' });
      try {
        await stubborn.connect();
        const cancelling = async () => {
          const key = String((await scrapyd(server, 'schedule.json', { project: 'quotes', spider: 'beta' })).jobid);
          const name = await waitFor(`assignment of ${key}`, 10_000, () => stubborn.assignments.find((a) => a.job.endsWith(`/jobs/${key}`))?.job);
          await waitFor(`${key} RUNNING`, 10_000, () => jobState(server, 'beta', key), (st) => st === 'RUNNING');
          assert.equal((await scrapyd(server, 'cancel.json', { project: 'quotes', job: key })).status, 'ok');
          await waitFor(`${key} CANCELLING`, 10_000, () => jobState(server, 'beta', key), (st) => st === 'CANCELLING');
          return { key, name: name! };
        };
        const failed = await cancelling();
        stubborn.finish(failed.name, 'FAILED');
        await waitFor('FAILED', 10_000, () => jobState(server, 'beta', failed.key), (st) => st === 'FAILED');

        const lost = await cancelling();
        stubborn.drop(); // gone while stopping it
        await waitFor('LOST', 15_000, () => jobState(server, 'beta', lost.key), (st) => st === 'LOST');

        for (const key of [failed.key, lost.key]) {
          assert.deepEqual(await mailsOfJob(db, await jobId(key)), [], `${key}: the mail would be queued with its end`);
          assert.equal(await jobsRepo.findJobByKey(db, `${key}-r2`), undefined, `${key}: not started again`);
        }
      } finally {
        stubborn.close();
        await setSpider(server, 'beta', { retries: 0 });
      }
    });

    it('sent every queued mail exactly once', async () => {
      const subjects = sink!.mails.map((m) => m.subject);
      assert.equal(new Set(subjects).size, subjects.length, subjects.join('\n'));
      assert.equal(subjects.length, 5);
    });
  });

  describe(`failure e-mail from a real crawl, with an SMTP login (${kind})`, () => {
    const PASSWORD = 'pw-Zq7-never-logged';
    let tdb: TestDatabase;
    let server: TestServer;
    let sink: SmtpSink;
    let agent: TestAgent;
    let site: PageSite;

    before(async () => {
      sink = await startSmtpSink({ auth: { user: 'bot', password: PASSWORD } });
      tdb = await createTestDatabase(kind);
      server = await startTestServer({
        databaseUrl: tdb.url,
        settings: {
          enable_authentication: 'false',
          runner_python: TEST_PYTHON,
          ...mailSettings(sink.port, { smtp_user: 'bot', smtp_passwd: PASSWORD, smtp_tls: 'none', debug: 'true' }),
        },
      });
      await uploadProject(server, undefined, 'behaviours');
      agent = await startTestAgent({ servers: [server.address] });
      await agent.waitForLog((e) => e.msg === 'session accepted', 30_000, 'SessionAccepted');
      site = await startPageSite(1);
    });
    after(async () => {
      await site?.close();
      await agent?.stop();
      await server?.stop();
      await tdb?.drop();
      await sink?.close();
      if (agent) await removeAgentDir(agent);
    });

    it('a spider raising in a real crawl: one mail, sent after logging in with smtp_user and smtp_passwd, quoting the error; the password is never logged', async () => {
      const id = await schedule(server, undefined, 'raiser', { url: site.url }, 'behaviours');
      const subject = `[scrapydd] job failed: behaviours/raiser ${id}`;
      await waitFor('the mail', 90_000, () => mailsWith(sink, subject).length, (n) => n === 1, 200);
      const mail = mailsWith(sink, subject)[0]!;
      assert.equal(mail.user, 'bot');
      assert.deepEqual(mail.to, RECEIVERS);
      const lines = mail.text.split('\n');
      for (const line of ['State:        FAILED', 'Close reason: finished', 'Items:        1', `Log:          /logs/behaviours/raiser/${id}.log`]) {
        assert.ok(lines.includes(line), `${line}\n--- in ---\n${mail.text}`);
      }
      assert.match(mail.text, /RuntimeError: raiser breaks on purpose/);
      // The sink has the mail before the server has its reply and logs it.
      await waitFor('the log line', 5_000, () => server.logs.some((l) => l.includes('failure mail sent')));
      assert.ok(!server.logs.join('\n').includes(PASSWORD), 'the password is not in the server log (debug level)');
      const cli = await server.cli(['nodekey', 'create']);
      assert.ok(!(cli.stdout + cli.stderr).includes(PASSWORD), 'nor in what a CLI command with that config prints');
      assert.equal(sink.mails.length, 1);
    });
  });
}

describe('failure e-mail over TLS (sqlite)', () => {
  let keysDir: string;
  let ca: string;
  let pair: { key: string; cert: string };
  before(async () => {
    // A private CA and a certificate for 127.0.0.1 (always among its names), from `scrapydd cert`.
    keysDir = await mkdtemp(join(tmpdir(), 'scrapydd-mailtls-'));
    await writeConfig(keysDir, 'sqlite:///unused.db', await freePort());
    for (const args of [['cert', 'ca'], ['cert', 'server', '--name', 'localhost']]) {
      const made = await runCli(keysDir, args);
      assert.equal(made.code, 0, made.stderr);
    }
    ca = join(keysDir, 'keys', 'ca.crt');
    pair = { key: await readFile(join(keysDir, 'keys', 'localhost.key'), 'utf8'), cert: await readFile(join(keysDir, 'keys', 'localhost.crt'), 'utf8') };
  });
  after(() => rm(keysDir, { recursive: true, force: true }));

  /** A server mailing with `extra` settings and `env`, and one job of it ended FAILED by a simulated agent. */
  async function failOneJob(extra: Record<string, string>, env: Record<string, string>) {
    const dispatch = await startDispatchEnv('sqlite', 1, mailSettings(0, extra), env);
    const agent = new SimAgent({ address: dispatch.servers[0]!.address, token: (await registerNode(dispatch.servers[0]!)).token, runMs: Infinity, slots: 1 });
    await agent.connect();
    const key = await runJob(dispatch, agent, 'alpha', 'FAILED');
    return { dispatch, agent, key };
  }

  for (const mode of ['tls', 'starttls'] as const) {
    it(`smtp_tls = ${mode}: the mail goes over TLS verified against the CA of NODE_EXTRA_CA_CERTS; the login only inside it`, async () => {
      const sink = await startSmtpSink({ auth: { user: 'bot', password: 'pw-tls' }, tls: { ...pair, implicit: mode === 'tls' } });
      const run = await failOneJob({ smtp_port: String(sink.port), smtp_tls: mode, smtp_user: 'bot', smtp_passwd: 'pw-tls' }, { NODE_EXTRA_CA_CERTS: ca });
      try {
        await waitFor('the mail', 20_000, () => mailsWith(sink, subjectOf(run.key)).length, (n) => n === 1);
        const mail = mailsWith(sink, subjectOf(run.key))[0]!;
        assert.equal(mail.secure, true, 'sent over TLS');
        assert.equal(mail.user, 'bot');
        assert.deepEqual(mail.to, RECEIVERS);
      } finally {
        run.agent.close();
        await run.dispatch.close();
        await sink.close();
      }
    });
  }

  it('smtp_tls = starttls with a certificate the server does not trust: nothing sent, the mail kept with the reason; sent once the CA is trusted', async () => {
    const sink = await startSmtpSink({ auth: { user: 'bot', password: 'pw-tls' }, tls: { ...pair, implicit: false } });
    const settings = { smtp_port: String(sink.port), smtp_tls: 'starttls', smtp_user: 'bot', smtp_passwd: 'pw-tls' };
    const run = await failOneJob(settings, {});
    const db = await openDatabase(parseDatabaseUrl(run.dispatch.db.url));
    try {
      const id = (await jobsRepo.findJobByKey(db, run.key))!.id;
      const [kept] = await waitFor('a failed attempt', 15_000, () => mailsOfJob(db, id), (m) => m.length === 1 && m[0]!.attempts >= 1 && m[0]!.lastError !== '');
      assert.equal(kept!.state, 'PENDING');
      assert.match(kept!.lastError, /certificate/i);
      assert.equal(sink.mails.length, 0, 'no mail, and so no password, over an unverified connection');

      // The operator adds the CA; the restarted server sends the kept mail.
      run.agent.close();
      await run.dispatch.servers[0]!.stop();
      const restarted = await startTestServer({ databaseUrl: run.dispatch.db.url, settings: { ...FAST_LIVENESS, ...mailSettings(0, settings) }, env: { NODE_EXTRA_CA_CERTS: ca } });
      run.dispatch.servers[0] = restarted;
      await waitFor('the mail', 30_000, () => mailsWith(sink, subjectOf(run.key)).length, (n) => n === 1);
      assert.equal(mailsWith(sink, subjectOf(run.key))[0]!.secure, true);
      await waitFor('SENT', 5_000, () => mailsOfJob(db, id), (m) => m[0]?.state === 'SENT');
    } finally {
      await db.close();
      await run.dispatch.close();
      await sink.close();
    }
  });
});

describe('failure e-mail configuration at start-up', () => {
  it('job_fail_send_mail without smtp_server: the server exits with a message naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-mailconf-'));
    try {
      await assert.rejects(
        startTestServer({ databaseUrl: `sqlite:///${join(dir, 'db.sqlite')}`, settings: { job_fail_send_mail: 'true', job_fail_mail_receiver: 'ops@example.com' } }),
        (err: Error) => {
          assert.match(err.message, /exited \(code 2\) before listening/);
          assert.match(err.message, /scrapydd: smtp_server: not set, but failure e-mail needs an SMTP server \(job_fail_send_mail = true in .*scrapydd\.conf\)/);
          return true;
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
