/** The Trigger API over REST and gRPC: CRUD, defaults, validation, duplicates, access, update_mask, paging, fire history. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Trigger, Trigger_Outcome, TriggerServiceClient } from '../../gen/scrapydd/v1/trigger.js';
import { testDatabaseKinds } from '../support/databases.js';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { openDatabase } from '../../src/storage/database.js';
import { findJobByKey } from '../../src/storage/jobs-repo.js';
import { recordFire } from '../../src/storage/triggers-repo.js';
import { rest, scrapyd, startDispatchEnv, type DispatchEnv } from '../support/dispatch-harness.js';
import { addUser, auth, grpcError, statusDetails, unary } from '../support/grpc-client.js';
import { waitFor } from '../support/sim-agent.js';
import { ADMIN } from '../support/dispatch-harness.js';
import { basic } from '../support/server-process.js';

const BOB = basic('bob', 'bob-password-1');

/** Local wall time of an instant in a zone, "HH:MM". */
const localTime = (iso: string, zone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const kind of testDatabaseKinds()) {
  describe(`Trigger API (${kind})`, () => {
    let env: DispatchEnv;
    let client: TriggerServiceClient;
    const base = '/v1/projects/quotes/spiders';

    before(async () => {
      env = await startDispatchEnv(kind, 1, { timezone: 'Europe/Berlin' });
      await addUser(env.servers[0]!, 'bob', 'bob-password-1');
      client = new TriggerServiceClient(env.servers[0]!.address, grpc.credentials.createInsecure());
    });
    after(async () => {
      client.close();
      await env.close();
    });

    const call = (method: string, path: string, json?: unknown) => rest(env.servers[0]!, method, path, json) as Promise<{ status: number; body: Json }>;
    async function as(who: string | undefined, method: string, path: string, json?: unknown): Promise<{ status: number; body: Json }> {
      const res = await fetch(`${env.servers[0]!.baseUrl}${path}`, {
        method, headers: { ...(who ? { authorization: who } : {}), 'content-type': 'application/json' }, body: json === undefined ? undefined : JSON.stringify(json),
      });
      return { status: res.status, body: (await res.json()) as Json };
    }
    function assertError(reply: { status: number; body: Json }, status: number, reason: string, message: RegExp, field?: string) {
      assert.equal(reply.status, status, JSON.stringify(reply.body));
      const { error } = reply.body;
      assert.equal(error.details[0].reason, reason);
      assert.match(error.message, message);
      if (field) assert.deepEqual(error.details[1].fieldViolations.map((v: Json) => v.field), [field]);
      return error;
    }

    it('creates over REST: enabled by default, the server zone by default, the next fire time in that zone', async () => {
      const created = await call('POST', `${base}/alpha/triggers`, { cron: '0 3 * * *', args: { a: '1' }, scrapySettings: { DOWNLOAD_DELAY: '1' } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const t = created.body as Json;
      assert.match(t.name, /^projects\/quotes\/spiders\/alpha\/triggers\/\d+$/);
      assert.deepEqual([t.cron, t.timeZone, t.enabled], ['0 3 * * *', 'Europe/Berlin', true]);
      assert.deepEqual([t.args, t.scrapySettings], [{ a: '1' }, { DOWNLOAD_DELAY: '1' }]);
      assert.equal(localTime(t.nextFireTime, 'Europe/Berlin'), '03:00');
      const ahead = Date.parse(t.nextFireTime) - Date.now();
      assert.ok(ahead > 0 && ahead <= 86_400_000 + 3_600_000, t.nextFireTime);
      assert.equal(t.lastOutcome, undefined, 'not fired yet');
      assert.equal(t.lastFireTime, undefined);
      const got = await call('GET', `/v1/${t.name}`);
      assert.deepEqual(got.body, t);
    });

    it('creates, reads and lists over gRPC; a disabled trigger has no next fire time', async () => {
      const md = auth(ADMIN);
      const t = await unary(client.createTrigger.bind(client), {
        parent: 'projects/quotes/spiders/beta',
        trigger: Trigger.fromPartial({ cron: '*/30 9-17 * * mon-fri', timeZone: 'Asia/Kolkata', enabled: false }),
      }, md);
      assert.equal(t.enabled, false);
      assert.equal(t.nextFireTime, undefined);
      assert.equal(t.timeZone, 'Asia/Kolkata');
      const got = await unary(client.getTrigger.bind(client), { name: t.name }, md);
      assert.equal(got.cron, '*/30 9-17 * * mon-fri');
      assert.equal(got.lastOutcome, Trigger_Outcome.OUTCOME_UNSPECIFIED);
      const listed = await unary(client.listTriggers.bind(client), { parent: 'projects/quotes/spiders/beta', pageSize: 0, pageToken: '' }, md);
      assert.ok(listed.triggers.some((x) => x.name === t.name));
      const enabled = await unary(client.updateTrigger.bind(client), { trigger: { ...got, enabled: true }, updateMask: ['enabled'] }, md);
      assert.equal(enabled.enabled, true);
      assert.match(localTime(enabled.nextFireTime!, 'Asia/Kolkata'), /^(09|1[0-7]):(00|30)$/);
      const bad = await grpcError(unary(client.createTrigger.bind(client), { parent: 'projects/quotes/spiders/beta', trigger: Trigger.fromPartial({ cron: '* * * *' }) }, md));
      assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(statusDetails(bad).errorInfo?.reason, 'INVALID_CRON');
      const denied = await grpcError(unary(client.listTriggers.bind(client), { parent: 'projects/quotes/spiders/beta', pageSize: 0, pageToken: '' }, auth(BOB)));
      assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
      const anonymous = await grpcError(unary(client.getTrigger.bind(client), { name: t.name }, auth()));
      assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED);
    });

    it('refuses bad expressions and zones naming the field', async () => {
      const post = (body: Json) => call('POST', `${base}/gamma/triggers`, body);
      assertError(await post({ cron: '0 0 0 * * *' }), 400, 'INVALID_CRON', /has 6 fields; use 5 .* seconds or years are not supported/, 'trigger.cron');
      assertError(await post({ cron: '@reboot' }), 400, 'INVALID_CRON', /@reboot is not supported/, 'trigger.cron');
      assertError(await post({ cron: '61 * * * *' }), 400, 'INVALID_CRON', /minute field '61': 61 is out of range 0-59/, 'trigger.cron');
      assertError(await post({ cron: '0 0 31 2 *' }), 400, 'INVALID_CRON', /never fires/, 'trigger.cron');
      assertError(await post({ cron: '@daily', timeZone: 'Mars/Olympus' }), 400, 'INVALID_TIME_ZONE', /time zone 'Mars\/Olympus' is not an IANA time zone name/, 'trigger.time_zone');
      assertError(await post({ cron: '@daily', scrapySettings: { 'bad key': '1' } }), 400, 'INVALID_ARGUMENT', /not a Scrapy setting name/, 'trigger.scrapy_settings');
      assert.equal((await call('GET', `${base}/gamma/triggers`)).body.triggers, undefined, 'nothing was created');
    });

    it('refuses an exact duplicate naming the existing trigger, and allows the same cron with other args', async () => {
      const first = await call('POST', `${base}/gamma/triggers`, { cron: '15 * * * *', timeZone: 'Asia/Kolkata', args: { x: '1', y: '2' } });
      assert.equal(first.status, 200);
      // same fields, args in another order, the zone under its other name
      const dup = await call('POST', `${base}/gamma/triggers`, { cron: ' 15  * * * * ', timeZone: 'Asia/Calcutta', args: { y: '2', x: '1' } });
      const error = assertError(dup, 409, 'TRIGGER_EXISTS', new RegExp(`an identical trigger exists: ${first.body.name}`));
      assert.equal(error.details[0].metadata.trigger, first.body.name);
      const other = await call('POST', `${base}/gamma/triggers`, { cron: '15 * * * *', timeZone: 'Asia/Kolkata', args: { x: '2', y: '2' } });
      assert.equal(other.status, 200);
      // an update that would make a duplicate is refused too
      const upd = await call('PATCH', `/v1/${other.body.name}?updateMask=args`, { args: { x: '1', y: '2' } });
      assertError(upd, 409, 'TRIGGER_EXISTS', new RegExp(first.body.name));
      for (const t of [first, other]) assert.equal((await call('DELETE', `/v1/${t.body.name}`)).status, 200);
    });

    it('answers NOT_FOUND for unknown projects, spiders and triggers, PERMISSION_DENIED for other users, UNAUTHENTICATED without credentials', async () => {
      assertError(await call('POST', '/v1/projects/nope/spiders/alpha/triggers', { cron: '@daily' }), 404, 'PROJECT_NOT_FOUND', /project 'nope' not found/);
      assertError(await call('POST', `${base}/nope/triggers`, { cron: '@daily' }), 404, 'SPIDER_NOT_FOUND', /spider 'nope' not found/);
      assertError(await call('GET', `${base}/alpha/triggers/123`), 404, 'TRIGGER_NOT_FOUND', /not found/);
      assertError(await call('GET', `${base}/alpha/triggers/abc`), 400, 'INVALID_NAME', /trigger id 'abc' is not valid/);
      assertError(await as(BOB, 'POST', `${base}/alpha/triggers`, { cron: '@daily' }), 403, 'PERMISSION_DENIED', /no access to project 'quotes'/);
      assertError(await as(BOB, 'GET', `${base}/alpha/triggers`), 403, 'PERMISSION_DENIED', /no access/);
      assert.equal((await as(undefined, 'GET', `${base}/alpha/triggers`)).status, 401);
    });

    it('updates the fields update_mask names; a schedule change moves the next fire time, disabling clears it', async () => {
      const t = (await call('POST', `${base}/alpha/triggers`, { cron: '0 12 * * *', args: { keep: 'me' } })).body;
      const tz = await call('PATCH', `/v1/${t.name}?updateMask=cron,timeZone`, { cron: '30 8 * * *', timeZone: 'Asia/Kolkata', args: { ignored: 'x' } });
      assert.equal(tz.status, 200, JSON.stringify(tz.body));
      assert.deepEqual([tz.body.cron, tz.body.timeZone, tz.body.args], ['30 8 * * *', 'Asia/Kolkata', { keep: 'me' }]);
      assert.equal(localTime(tz.body.nextFireTime, 'Asia/Kolkata'), '08:30');
      assert.ok(Date.parse(tz.body.updateTime) >= Date.parse(t.updateTime));
      const args = await call('PATCH', `/v1/${t.name}?updateMask=args`, { args: { other: 'y' } });
      assert.deepEqual(args.body.args, { other: 'y' });
      assert.equal(args.body.nextFireTime, tz.body.nextFireTime, 'the pending fire time stays');
      const off = await call('PATCH', `/v1/${t.name}?update_mask=enabled`, { enabled: false });
      assert.deepEqual([off.body.enabled, off.body.nextFireTime], [false, undefined]);
      const implied = await call('PATCH', `/v1/${t.name}`, { enabled: true });
      assert.equal(implied.body.enabled, true, 'no mask: the fields the request sets');
      assert.equal(implied.body.cron, '30 8 * * *');
      assertError(await call('PATCH', `/v1/${t.name}?updateMask=name`, {}), 400, 'INVALID_ARGUMENT', /'name' cannot be updated/, 'update_mask');
      assertError(await call('PATCH', `/v1/${t.name}?updateMask=cron`, { cron: 'nope' }), 400, 'INVALID_CRON', /has 1 fields/, 'trigger.cron');
      assert.equal((await call('DELETE', `/v1/${t.name}`)).status, 200);
      assertError(await call('GET', `/v1/${t.name}`), 404, 'TRIGGER_NOT_FOUND', /not found/);
      assertError(await call('DELETE', `/v1/${t.name}`), 404, 'TRIGGER_NOT_FOUND', /not found/);
    });

    it('lists a trigger’s fire history newest first, in pages, with the job queued or why none was', async () => {
      const t = (await call('POST', `${base}/beta/triggers`, { cron: '0 * * * *', timeZone: 'UTC' })).body;
      const triggerId = String(t.name).split('/').pop()!;
      const jobKey = String((await scrapyd(env.servers[0]!, 'schedule.json', { project: 'quotes', spider: 'beta' })).jobid);
      const db = await openDatabase(parseDatabaseUrl(env.db.url));
      try {
        const jobId = (await findJobByKey(db, jobKey))!.id;
        const fire = (hour: number, outcome: 'QUEUED' | 'MISSED' | 'SPIDER_DISABLED', reason: string, job?: string) =>
          recordFire(db, { triggerId, fireTime: `2030-03-01T0${hour}:00:00.000Z`, outcome, reason, jobId: job });
        await fire(1, 'MISSED', 'every server was down past misfire_grace');
        await fire(2, 'QUEUED', '', jobId);
        await fire(3, 'SPIDER_DISABLED', 'the spider is disabled');
        await fire(4, 'QUEUED', '', '123456789'); // a job pruned since
      } finally {
        await db.close();
      }
      const first = await call('GET', `/v1/${t.name}/fires?pageSize=3`);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body.fires.map((f: Json) => [f.fireTime, f.outcome, f.reason ?? '', f.job ?? '']), [
        ['2030-03-01T04:00:00.000Z', 'QUEUED', '', ''],
        ['2030-03-01T03:00:00.000Z', 'SPIDER_DISABLED', 'the spider is disabled', ''],
        ['2030-03-01T02:00:00.000Z', 'QUEUED', '', `projects/quotes/spiders/beta/jobs/${jobKey}`],
      ]);
      for (const f of first.body.fires) assert.ok(Math.abs(Date.parse(f.handleTime) - Date.now()) < 60_000, f.handleTime);
      const second = await call('GET', `/v1/${t.name}/fires?pageSize=3&pageToken=${first.body.nextPageToken}`);
      assert.deepEqual(second.body.fires.map((f: Json) => [f.fireTime, f.outcome]), [['2030-03-01T01:00:00.000Z', 'MISSED']]);
      assert.equal(second.body.nextPageToken ?? '', '');

      const overGrpc = await unary(client.listTriggerFires.bind(client), { parent: t.name, pageSize: 10, pageToken: '' }, auth(ADMIN));
      assert.deepEqual(overGrpc.fires.map((f) => [f.outcome, f.job]), [
        [Trigger_Outcome.QUEUED, ''], [Trigger_Outcome.SPIDER_DISABLED, ''], [Trigger_Outcome.QUEUED, `projects/quotes/spiders/beta/jobs/${jobKey}`], [Trigger_Outcome.MISSED, ''],
      ]);

      assertError(await call('GET', `/v1/${t.name}/fires?pageToken=${first.body.nextPageToken}x`), 400, 'INVALID_ARGUMENT', /page_token is not valid/);
      assertError(await call('GET', `${base}/beta/triggers/123/fires`), 404, 'TRIGGER_NOT_FOUND', /not found/);
      assertError(await as(BOB, 'GET', `/v1/${t.name}/fires`), 403, 'PERMISSION_DENIED', /no access to project 'quotes'/);
      assert.equal((await as(undefined, 'GET', `/v1/${t.name}/fires`)).status, 401);
      assert.equal((await call('DELETE', `/v1/${t.name}`)).status, 200);
    });

    it('lists a spider’s triggers oldest first, in pages', async () => {
      const names: string[] = [];
      for (const m of [1, 2, 3]) names.push(String((await call('POST', `${base}/gamma/triggers`, { cron: `${m} * * * *` })).body.name));
      const first = await call('GET', `${base}/gamma/triggers?pageSize=2`);
      assert.deepEqual(first.body.triggers.map((t: Json) => t.name), names.slice(0, 2));
      assert.ok(first.body.nextPageToken);
      const second = await call('GET', `${base}/gamma/triggers?pageSize=2&pageToken=${first.body.nextPageToken}`);
      assert.deepEqual(second.body.triggers.map((t: Json) => t.name), names.slice(2));
      assert.equal(second.body.nextPageToken ?? '', '');
      assertError(await call('GET', `${base}/alpha/triggers?pageToken=${first.body.nextPageToken}`), 400, 'INVALID_ARGUMENT', /page_token is not valid/);
    });
  });
}

describe('Trigger edits on PostgreSQL reach the other servers\' clocks at once', () => {
  let env: DispatchEnv | undefined;
  before(async () => {
    if (testDatabaseKinds().includes('postgres')) env = await startDispatchEnv('postgres', 2, { debug: 'true' });
  });
  after(async () => {
    await env?.close();
  });

  /** The fire times a server's clock logged after reading the earliest one ("trigger clock: next fire time"). */
  const clockReads = (logs: readonly string[]) =>
    logs.flatMap((line) => {
      try {
        const e = JSON.parse(line) as { msg?: string; nextFireTime?: string | null; time?: number };
        return e.msg === 'trigger clock: next fire time' ? [{ nextFireTime: e.nextFireTime ?? null, time: e.time ?? 0 }] : [];
      } catch {
        return [];
      }
    });

  it('a trigger created on one server wakes the clock of the other, which otherwise re-reads every 30 s', { skip: !testDatabaseKinds().includes('postgres') }, async () => {
    const [first, second] = env!.servers as [DispatchEnv['servers'][0], DispatchEnv['servers'][0]];
    const before = clockReads(first.logs);
    assert.ok(before.length > 0, 'the clock read the earliest fire time at start-up');
    assert.ok(Date.now() - before.at(-1)!.time < 20_000, 'its next bounded re-read is still far off');
    const created = await rest(second, 'POST', '/v1/projects/quotes/spiders/alpha/triggers', { cron: '0 0 1 1 *', timeZone: 'UTC' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const next = String(created.body.nextFireTime);
    await waitFor('the first server\'s clock to read the new fire time', 5000, () => clockReads(first.logs), (reads) => reads.some((r) => r.nextFireTime === next), 100);
  });
});

