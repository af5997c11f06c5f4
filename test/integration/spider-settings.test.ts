/**
 * Spider settings over REST (UpdateSpider with update_mask): what the mask
 * names changes and nothing else, bad values are refused naming the field,
 * settings survive new versions, a spider gone from the latest version is
 * marked missing with its settings and jobs kept, runs take their defaults
 * from the settings, and a disabled spider does not run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabaseKinds } from '../support/databases.js';
import { addVersion, request, scrapydPost, type JsonObject, type Reply } from '../support/http-client.js';
import { ALICE, authOf, BOB, quotesEgg, quotesEggWithoutGamma, useServer } from '../support/http-harness.js';

const AL = authOf(ALICE);

function ok(reply: Reply): JsonObject {
  assert.equal(reply.status, 200, reply.text);
  return reply.json;
}

function refused(reply: Reply, httpStatus: number, status: string, message: RegExp): void {
  assert.equal(reply.status, httpStatus, reply.text);
  assert.equal(reply.json.error.status, status, reply.text);
  assert.match(reply.json.error.message as string, message);
}

for (const kind of testDatabaseKinds()) {
  describe(`spider settings (${kind})`, () => {
    const h = useServer(kind, { users: [ALICE, BOB] });
    const call = (method: string, path: string, opts: Parameters<typeof request>[3] = {}) =>
      request(h().server, method, path, { auth: AL, ...opts });
    const patch = (project: string, spider: string, mask: string, settings: JsonObject, auth = AL) =>
      call('PATCH', `/v1/projects/${project}/spiders/${spider}?updateMask=${encodeURIComponent(mask)}`, { json: { settings }, auth });

    async function deploy(project: string, version: string, egg: Buffer): Promise<void> {
      const reply = await addVersion(h().server, AL, project, version, egg);
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.status, 'ok', reply.text);
    }

    it('a fresh spider has the documented defaults', async () => {
      await deploy('defaults', 'v1', await quotesEgg());
      const spider = ok(await call('GET', '/v1/projects/defaults/spiders/alpha'));
      assert.equal(spider.name, 'projects/defaults/spiders/alpha');
      assert.equal(spider.latestVersion, 'projects/defaults/versions/v1');
      assert.equal(spider.missing ?? false, false);
      const s = spider.settings ?? {};
      assert.equal(s.concurrency, 1);
      assert.equal(s.timeoutSeconds, 3600);
      assert.equal(s.retries ?? 0, 0);
      assert.equal(s.disabled ?? false, false);
    });

    it('update_mask changes exactly the named fields', async () => {
      await deploy('masked', 'v1', await quotesEgg());
      let spider = ok(await patch('masked', 'alpha', 'settings.tag,settings.concurrency', { tag: 'eu', concurrency: 3, retries: 7 }));
      assert.equal(spider.settings.tag, 'eu');
      assert.equal(spider.settings.concurrency, 3);
      assert.equal(spider.settings.retries ?? 0, 0, 'retries was not in the mask');
      spider = ok(await patch('masked', 'alpha', 'settings.args,settings.scrapy_settings,settings.extra_requirements,settings.priority', {
        args: { category: 'books' },
        scrapySettings: { DOWNLOAD_DELAY: '0.5' },
        extraRequirements: ['requests>=2.0'],
        priority: 5,
      }));
      assert.equal(spider.settings.tag, 'eu', 'an earlier update stays');
      assert.deepEqual(spider.settings.args, { category: 'books' });
      assert.deepEqual(spider.settings.scrapySettings, { DOWNLOAD_DELAY: '0.5' });
      assert.deepEqual(spider.settings.extraRequirements, ['requests>=2.0']);
      assert.equal(spider.settings.priority, 5);
      const again = ok(await call('GET', '/v1/projects/masked/spiders/alpha'));
      assert.deepEqual(again.settings, spider.settings);
      // `settings` as a whole replaces every field: unset ones go back to their zero value and are checked.
      refused(await patch('masked', 'alpha', 'settings', { tag: 'x' }), 400, 'INVALID_ARGUMENT', /concurrency must be 1\.\.1000/);
    });

    it('bad masks and values are refused naming the field; nothing changes', async () => {
      await deploy('badvalues', 'v1', await quotesEgg());
      const before = ok(await call('GET', '/v1/projects/badvalues/spiders/alpha'));
      refused(await call('PATCH', '/v1/projects/badvalues/spiders/alpha', { json: { settings: { tag: 'a' } } }), 400, 'INVALID_ARGUMENT', /update_mask is required/);
      refused(await patch('badvalues', 'alpha', 'latest_version', {}), 400, 'INVALID_ARGUMENT', /'latest_version' cannot be updated/);
      refused(await patch('badvalues', 'alpha', 'settings.nope', {}), 400, 'INVALID_ARGUMENT', /'settings.nope' cannot be updated/);
      refused(await patch('badvalues', 'alpha', 'settings.tag', { tag: 'a,b' }), 400, 'INVALID_ARGUMENT', /settings.tag 'a,b' is not valid.*at most one tag/);
      refused(await patch('badvalues', 'alpha', 'settings.concurrency', { concurrency: 0 }), 400, 'INVALID_ARGUMENT', /settings.concurrency/);
      refused(await patch('badvalues', 'alpha', 'settings.timeout_seconds', { timeoutSeconds: 0 }), 400, 'INVALID_ARGUMENT', /settings.timeout_seconds/);
      refused(await patch('badvalues', 'alpha', 'settings.retries', { retries: -1 }), 400, 'INVALID_ARGUMENT', /settings.retries/);
      refused(await patch('badvalues', 'alpha', 'settings.scrapy_settings', { scrapySettings: { 'bad key': '1' } }), 400, 'INVALID_ARGUMENT',
        /settings.scrapy_settings: 'bad key'/);
      refused(await patch('badvalues', 'alpha', 'settings.args', { args: { 'a=b': '1' } }), 400, 'INVALID_ARGUMENT', /settings.args: 'a=b'/);
      for (const requirement of ['--index-url=http://evil.example/simple', 'requests\n--extra-index-url http://x', ' ']) {
        refused(await patch('badvalues', 'alpha', 'settings.extra_requirements', { extraRequirements: [requirement] }), 400, 'INVALID_ARGUMENT',
          /settings.extra_requirements: .* is not a pip requirement/);
      }
      refused(await patch('badvalues', 'nosuch', 'settings.tag', { tag: 'a' }), 404, 'NOT_FOUND', /spider 'nosuch' not found/);
      refused(await patch('badvalues', 'alpha', 'settings.tag', { tag: 'a' }, authOf(BOB)), 403, 'PERMISSION_DENIED', /badvalues/);
      assert.deepEqual(ok(await call('GET', '/v1/projects/badvalues/spiders/alpha')), before);
    });

    it('settings survive a new version; a spider gone from it is missing, with its settings and jobs kept', async () => {
      await deploy('survive', 'v1', await quotesEgg());
      ok(await patch('survive', 'gamma', 'settings.concurrency,settings.tag', { concurrency: 4, tag: 'big' }));
      ok(await patch('survive', 'alpha', 'settings.retries', { retries: 2 }));
      const job = ok(await call('POST', '/v1/projects/survive/spiders/gamma:run', { json: {} }));
      await deploy('survive', 'v2', await quotesEggWithoutGamma());
      const alpha = ok(await call('GET', '/v1/projects/survive/spiders/alpha'));
      assert.equal(alpha.latestVersion, 'projects/survive/versions/v2');
      assert.equal(alpha.settings.retries, 2);
      const gamma = ok(await call('GET', '/v1/projects/survive/spiders/gamma'));
      assert.equal(gamma.missing, true);
      assert.equal(gamma.latestVersion, 'projects/survive/versions/v1');
      assert.equal(gamma.settings.concurrency, 4);
      assert.equal(gamma.settings.tag, 'big');
      const jobs = ok(await call('GET', '/v1/projects/survive/spiders/gamma/jobs'));
      assert.deepEqual(jobs.jobs.map((j: JsonObject) => j.name), [job.name]);
      // Running it needs a version that has it.
      refused(await call('POST', '/v1/projects/survive/spiders/gamma:run', { json: {} }), 404, 'NOT_FOUND', /spider 'gamma' not found/);
      ok(await call('POST', '/v1/projects/survive/spiders/gamma:run', { json: { version: 'v1' } }));
      // Back in a later version: no longer missing, settings as they were.
      await deploy('survive', 'v3', await quotesEgg());
      const back = ok(await call('GET', '/v1/projects/survive/spiders/gamma'));
      assert.equal(back.missing ?? false, false);
      assert.equal(back.latestVersion, 'projects/survive/versions/v3');
      assert.equal(back.settings.concurrency, 4);
    });

    it("a run takes the spider's defaults, the request's values over them", async () => {
      await deploy('defaulted', 'v1', await quotesEgg());
      ok(await patch('defaulted', 'beta', 'settings.args,settings.scrapy_settings,settings.priority,settings.timeout_seconds', {
        args: { a: '1', b: '2' },
        scrapySettings: { LOG_LEVEL: 'INFO', DOWNLOAD_DELAY: '1' },
        priority: 3,
        timeoutSeconds: 60,
      }));
      const plain = ok(await call('POST', '/v1/projects/defaulted/spiders/beta:run', { json: {} }));
      assert.deepEqual(plain.args, { a: '1', b: '2' });
      assert.deepEqual(plain.scrapySettings, { LOG_LEVEL: 'INFO', DOWNLOAD_DELAY: '1' });
      assert.equal(plain.priority, 3);
      const over = ok(await call('POST', '/v1/projects/defaulted/spiders/beta:run', {
        json: { args: { b: 'x' }, scrapySettings: { LOG_LEVEL: 'DEBUG' }, priority: -1 },
      }));
      assert.deepEqual(over.args, { a: '1', b: 'x' });
      assert.deepEqual(over.scrapySettings, { LOG_LEVEL: 'DEBUG', DOWNLOAD_DELAY: '1' });
      assert.equal(over.priority, -1);
    });

    it('a disabled spider keeps its jobs and refuses new runs until enabled again', async () => {
      await deploy('switch', 'v1', await quotesEgg());
      const queued = ok(await call('POST', '/v1/projects/switch/spiders/alpha:run', { json: {} }));
      const disabled = ok(await patch('switch', 'alpha', 'settings.disabled', { disabled: true }));
      assert.equal(disabled.settings.disabled, true);
      refused(await call('POST', '/v1/projects/switch/spiders/alpha:run', { json: {} }), 400, 'FAILED_PRECONDITION', /spider 'alpha' is disabled/);
      const scheduled = await scrapydPost(h().server, 'schedule.json', { project: 'switch', spider: 'alpha' }, AL);
      assert.equal(scheduled.json.status, 'error', scheduled.text);
      assert.match(scheduled.json.message as string, /spider 'alpha' is disabled/);
      // Other spiders of the project are not affected; the queued job stays.
      ok(await call('POST', '/v1/projects/switch/spiders/beta:run', { json: {} }));
      const kept = ok(await call('GET', `/v1/${queued.name as string}`));
      assert.equal(kept.state, 'PENDING');
      ok(await patch('switch', 'alpha', 'settings.disabled', { disabled: false }));
      ok(await call('POST', '/v1/projects/switch/spiders/alpha:run', { json: {} }));
    });
  });
}
