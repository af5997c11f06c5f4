// Failure e-mail: the message, the retry policy, and the configuration checks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { failureMessage, jobLogPath, LOG_LINE_MAX_CHARS } from '../../src/domain/notifications/failure-message.js';
import { needsFailureMail } from '../../src/domain/notifications/failure-mail.js';
import { MAIL_MAX_ATTEMPTS, MAIL_RETRY_CAP_MS, mailRetry } from '../../src/domain/notifications/mail-backoff.js';
import type { JobRow } from '../../src/storage/jobs-repo.js';

const job: JobRow = {
  id: '7001', key: 'a1b2c3', projectId: '1', project: 'quotes', spiderId: '2', spider: 'raiser', versionName: 'v7',
  eggSha256: 'x', eggSize: 1, settingsModule: 'quotes.settings', state: 'FAILED', priority: 0, tag: '',
  args: { api_key: 'ARG-SECRET' }, settings: { PROXY_PASSWORD: 'SETTING-SECRET' }, timeoutSeconds: 0, attempt: 2,
  retryOf: undefined, triggerId: undefined, nodeId: '55', sessionId: '56', pid: 4242, exitCode: 1, warning: false,
  itemCount: 12, logLineCount: 40, closeReason: 'finished', statsJson: '{}', cancelSignal: undefined,
  createTime: '2026-11-30T10:00:00.000Z', startTime: '2026-11-30T10:00:01.000Z', endTime: '2026-11-30T10:05:00.000Z',
};

describe('failure message', () => {
  test('subject names project, spider and job; FAILED and LOST say which', () => {
    assert.equal(failureMessage({ job, logTail: [] }).subject, '[scrapydd] job failed: quotes/raiser a1b2c3');
    assert.equal(failureMessage({ job: { ...job, state: 'LOST' }, logTail: [] }).subject, '[scrapydd] job lost: quotes/raiser a1b2c3');
  });

  test('body lists the facts of the job, the log path and the last 30 log lines in order', () => {
    const tail = Array.from({ length: 35 }, (_, i) => `line ${i + 5}`);
    const { body } = failureMessage({ job, logTail: tail, nodeName: 'worker-1' });
    for (const line of [
      'Project:      quotes',
      'Spider:       raiser',
      'Job id:       a1b2c3',
      'Job name:     projects/quotes/spiders/raiser/jobs/a1b2c3',
      'State:        FAILED',
      'Close reason: finished',
      'Exit code:    1',
      'Node:         worker-1 (nodes/55)',
      'Version:      v7',
      'Started:      2026-11-30T10:00:01.000Z',
      'Ended:        2026-11-30T10:05:00.000Z',
      'Attempt:      2',
      'Items:        12',
      'Log:          /logs/quotes/raiser/a1b2c3.log',
      'Last 30 of 40 log lines:',
    ]) {
      assert.ok(body.split('\n').includes(line), `${line}\n--- in ---\n${body}`);
    }
    const quoted = body.split('\n').filter((l) => l.startsWith('line '));
    assert.deepEqual(quoted, tail.slice(-30));
  });

  test('never quotes the job\'s arguments or settings', () => {
    const { subject, body } = failureMessage({ job, logTail: ['x'] });
    assert.doesNotMatch(subject + body, /SECRET/);
  });

  test('a job without node, exit code or log says so', () => {
    const { body } = failureMessage({ job: { ...job, nodeId: undefined, exitCode: undefined, closeReason: '', logLineCount: 0 }, logTail: [] });
    assert.match(body, /^Node: {9}-$/m);
    assert.match(body, /^Exit code: {4}-$/m);
    assert.match(body, /^Close reason: -$/m);
    assert.match(body, /^The job logged nothing\.$/m);
  });

  test('control characters cannot add header lines; long log lines are cut', () => {
    const { subject, body } = failureMessage({ job: { ...job, key: 'k\r\nBcc: x@example.com' }, logTail: ['a\rb\x1b[31m', 'y'.repeat(5000)] });
    assert.doesNotMatch(subject, /[\r\n]/);
    assert.ok(body.split('\n').includes('a b [31m'));
    assert.ok(body.split('\n').includes(`${'y'.repeat(LOG_LINE_MAX_CHARS)} [...]`));
  });

  test('the log path is the one /logs serves', () => {
    assert.equal(jobLogPath(job), '/logs/quotes/raiser/a1b2c3.log');
  });
});

describe('which jobs get a mail', () => {
  const ended = (state: JobRow['state'], retried: boolean, cancelRequested = false) => ({ id: '1', key: 'k', spiderId: '2', state, retried, cancelRequested });
  test('FAILED or LOST with no retry queued; never SUCCEEDED, CANCELLED, a job being retried, or one a user was stopping', () => {
    assert.equal(needsFailureMail(ended('FAILED', false)), true);
    assert.equal(needsFailureMail(ended('LOST', false)), true);
    assert.equal(needsFailureMail(ended('FAILED', true)), false);
    assert.equal(needsFailureMail(ended('LOST', true)), false);
    assert.equal(needsFailureMail(ended('SUCCEEDED', false)), false);
    assert.equal(needsFailureMail(ended('CANCELLED', false)), false);
    assert.equal(needsFailureMail(ended('FAILED', false, true)), false);
    assert.equal(needsFailureMail(ended('LOST', false, true)), false);
  });
});

describe('mail retry backoff', () => {
  test('doubles from 2 s, at most 10 minutes, and gives up at the last attempt', () => {
    const waits = Array.from({ length: MAIL_MAX_ATTEMPTS - 1 }, (_, i) => mailRetry(i + 1));
    assert.deepEqual(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512].map((s) => ({ retryInMs: s * 1000 })));
    assert.deepEqual(mailRetry(MAIL_MAX_ATTEMPTS), { giveUp: true });
    assert.deepEqual(mailRetry(MAIL_MAX_ATTEMPTS + 5), { giveUp: true });
  });

  test('the cap holds whatever the attempt count', () => {
    for (let a = 1; a < MAIL_MAX_ATTEMPTS; a++) {
      const r = mailRetry(a);
      assert.ok('retryInMs' in r && r.retryInMs <= MAIL_RETRY_CAP_MS && r.retryInMs > 0);
    }
    assert.throws(() => mailRetry(0), RangeError);
  });
});

describe('failure mail configuration', () => {
  const roots: string[] = [];
  after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
  const load = (server: Record<string, string>) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scrapydd-mailconf-'));
    roots.push(root);
    const file = path.join(root, 'scrapydd.conf');
    fs.writeFileSync(file, `[server]\n${Object.entries(server).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);
    return loadConfig({ etcDir: path.join(root, 'etc'), cwd: root, home: path.join(root, 'home'), env: {}, warn: () => undefined, stderrIsTTY: false }).server;
  };
  const configError = (server: Record<string, string>): ConfigError => {
    try {
      load(server);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err;
    }
    assert.fail('expected a ConfigError');
  };
  const on = { job_fail_send_mail: 'true', smtp_server: 'mail.example.com', job_fail_mail_receiver: 'ops@example.com' };

  test('off by default: nothing reaches the server', () => {
    assert.equal(load({}).failureMail, undefined);
    assert.equal(load({ smtp_server: 'mail.example.com', job_fail_mail_receiver: 'a@example.com' }).failureMail, undefined);
  });

  test('defaults: port 25, STARTTLS when offered, from scrapydd@<server_name>, no login', () => {
    const m = load({ ...on, server_name: 'sched.example.com', job_fail_mail_receiver: 'a@example.com, b@example.com' }).failureMail;
    assert.deepEqual(m, { smtp: { host: 'mail.example.com', port: 25, tls: 'starttls', from: 'scrapydd@sched.example.com' }, receivers: ['a@example.com', 'b@example.com'] });
  });

  test('smtp_tls = tls defaults to port 465; an explicit port wins', () => {
    assert.equal(load({ ...on, smtp_tls: 'tls' }).failureMail?.smtp.port, 465);
    assert.equal(load({ ...on, smtp_tls: 'TLS', smtp_port: '2465' }).failureMail?.smtp.port, 2465);
    assert.equal(load({ ...on, smtp_tls: 'none' }).failureMail?.smtp.tls, 'none');
    assert.match(configError({ ...on, smtp_tls: 'ssl' }).message, /^smtp_tls in .*: 'ssl' is not one of starttls, tls, none$/);
  });

  test('job_fail_send_mail without smtp_server or without receivers stops start-up naming the key', () => {
    const noServer = configError({ job_fail_send_mail: 'true', job_fail_mail_receiver: 'ops@example.com' });
    assert.equal(noServer.key, 'smtp_server');
    assert.match(noServer.message, /^smtp_server: not set, but failure e-mail needs an SMTP server \(job_fail_send_mail = true in .*scrapydd\.conf\)$/);
    const noReceiver = configError({ job_fail_send_mail: 'true', smtp_server: 'mail.example.com' });
    assert.equal(noReceiver.key, 'job_fail_mail_receiver');
  });

  test('addresses are checked', () => {
    const bad = configError({ ...on, job_fail_mail_receiver: 'ops@example.com, not-an-address' });
    assert.equal(bad.key, 'job_fail_mail_receiver');
    assert.match(bad.message, /'not-an-address' is not an e-mail address/);
    assert.equal(configError({ ...on, smtp_from: 'me@' }).key, 'smtp_from');
    assert.equal(configError({ ...on, smtp_from: '"Evil\\r\\nBcc" <a@example.com>' }).key, 'smtp_from');
    assert.equal(load({ ...on, smtp_from: 'Scrapy Bot <bot@example.com>' }).failureMail?.smtp.from, 'Scrapy Bot <bot@example.com>');
    assert.equal(configError({ ...on, server_name: 'bad host' }).key, 'smtp_from', 'the derived default is checked too');
  });

  test('a login needs user and password; the password never shows in JSON, inspect, logs or errors', () => {
    assert.equal(configError({ ...on, smtp_user: 'bot' }).key, 'smtp_passwd');
    assert.equal(configError({ ...on, smtp_passwd: 'pw' }).key, 'smtp_user');
    const config = load({ ...on, smtp_user: 'bot', smtp_passwd: 'hunter2-secret' });
    assert.equal(config.failureMail?.smtp.auth?.password.reveal(), 'hunter2-secret');
    assert.doesNotMatch(JSON.stringify(config), /hunter2/);
    assert.doesNotMatch(inspect(config, { depth: 10 }), /hunter2/);
    const lines: string[] = [];
    pino({}, { write: (l: string) => void lines.push(l) }).info({ config }, 'config');
    assert.doesNotMatch(lines.join(''), /hunter2/);
    assert.match(lines.join(''), /\[redacted\]/);
  });
});
