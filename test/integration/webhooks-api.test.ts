/**
 * The webhook as a resource, on the real server binary: the product
 * documentation's curl lines set and delete it (form, multipart and JSON
 * bodies too), with the REST API's authentication and errors; the same
 * webhook through WebhookService over REST and gRPC; the SSRF guard (a
 * literal private address refused when set, a name resolving to one failing
 * the delivery); a job's webhook_delivery. Once per database kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  DeleteWebhookRequest,
  GetWebhookRequest,
  UpdateWebhookRequest,
  WebhookServiceClient,
} from '../../gen/scrapydd/v1/webhook.js';
import { getJob, schedule, uploadQuotes, waitForJob } from '../support/agent-jobs.js';
import { curl } from '../support/curl.js';
import { testDatabaseKinds } from '../support/databases.js';
import { auth, grpcError, statusDetails, unary } from '../support/grpc-client.js';
import { request } from '../support/http-client.js';
import { ADMIN, ALICE, BOB, authOf, useServer } from '../support/http-harness.js';
import { SimAgent, waitFor } from '../support/sim-agent.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const HOOK = 'https://hooks.example.com/scrapydd?token=abc';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const kind of testDatabaseKinds()) {
  describe(`webhook API (${kind})`, () => {
    const harness = useServer(kind, { users: [ADMIN, ALICE, BOB] });
    const alice = ['-u', `${ALICE.name}:${ALICE.password}`];
    const path = (spider = 'alpha', project = 'quotes') => `/projects/${project}/spiders/${spider}/webhook`;
    const url = (spider?: string, project?: string) => `${harness().server.baseUrl}${path(spider, project)}`;

    before(async () => {
      await uploadQuotes(harness().server, authOf(ALICE));
    });

    it("sets, shows and deletes a webhook with the documentation's curl lines", async () => {
      const set = await curl(['-XPOST', url(), '-d', `payload_url=${HOOK}`, ...alice]);
      assert.equal(set.status, 200, set.body);
      assert.equal(set.json.name, 'projects/quotes/spiders/alpha/webhook');
      assert.equal(set.json.payloadUrl, HOOK);
      // proto3 JSON leaves out zeros, as the REST API does.
      assert.equal(set.json.pendingDeliveries ?? '0', '0');
      assert.equal(set.json.failedDeliveries ?? '0', '0');
      assert.match(set.json.updateTime, ISO);

      const shown = await curl([url(), ...alice]);
      assert.equal(shown.status, 200, shown.body);
      assert.equal(shown.json.payloadUrl, HOOK);

      // The documentation writes `-d payload_url = {address}`, spaces included.
      const spaced = await curl(['-XPOST', url(), '-d', 'payload_url = https://hooks.example.com/spaced', ...alice]);
      assert.equal(spaced.status, 200, spaced.body);
      assert.equal(spaced.json.payloadUrl, 'https://hooks.example.com/spaced');

      const deleted = await curl(['-XDELETE', url(), ...alice]);
      assert.equal(deleted.status, 200, deleted.body);
      assert.deepEqual(deleted.json, {});
      const gone = await curl([url(), ...alice]);
      assert.equal(gone.status, 404, gone.body);
      assert.equal(gone.json.error.status, 'NOT_FOUND');
      assert.match(gone.json.error.message, /has no webhook/);
      const again = await curl(['-XDELETE', url(), ...alice]);
      assert.equal(again.status, 404, again.body);
    });

    it('takes payload_url as a multipart form or a JSON body too', async () => {
      const multi = await curl(['-XPOST', url('beta'), '-F', 'payload_url=https://hooks.example.com/multi', ...alice]);
      assert.equal(multi.status, 200, multi.body);
      assert.equal(multi.json.payloadUrl, 'https://hooks.example.com/multi');
      const json = await curl(['-XPOST', url('beta'), '-H', 'content-type: application/json', '-d', '{"payload_url": "http://hooks.example.com/json"}', ...alice]);
      assert.equal(json.status, 200, json.body);
      assert.equal(json.json.payloadUrl, 'http://hooks.example.com/json');
    });

    it('requires credentials and access to the project, as the REST API does', async () => {
      const anonymous = await curl(['-XPOST', url(), '-d', `payload_url=${HOOK}`]);
      assert.equal(anonymous.status, 401, anonymous.body);
      assert.equal(anonymous.json.error.status, 'UNAUTHENTICATED');
      const wrong = await curl(['-XPOST', url(), '-d', `payload_url=${HOOK}`, '-u', `${ALICE.name}:wrong`]);
      assert.equal(wrong.status, 401, wrong.body);
      const bob = await curl(['-XPOST', url(), '-d', `payload_url=${HOOK}`, '-u', `${BOB.name}:${BOB.password}`]);
      assert.equal(bob.status, 403, bob.body);
      assert.equal(bob.json.error.status, 'PERMISSION_DENIED');
      const bobDelete = await curl(['-XDELETE', url(), '-u', `${BOB.name}:${BOB.password}`]);
      assert.equal(bobDelete.status, 403, bobDelete.body);
      const admin = await curl(['-XPOST', url('gamma'), '-d', `payload_url=${HOOK}`, '-u', `${ADMIN.name}:${ADMIN.password}`]);
      assert.equal(admin.status, 200, admin.body);
    });

    it('answers 400 naming payload_url for a missing or unusable URL, 404 for an unknown project or spider', async () => {
      const cases: [string[], RegExp][] = [
        [[], /payload_url is required/],
        [['-d', 'payload_url='], /payload_url is required/],
        [['-d', 'payload_url=not a url'], /not a valid URL/],
        [['-d', 'payload_url=ftp://hooks.example.com/x'], /http or https/],
        [['-d', 'payload_url=http://user:secret@hooks.example.com/'], /credentials/],
        [['-d', 'payload_url=http://127.0.0.1:8080/hook'], /loopback address.*webhook_allow_private/],
        [['-d', 'payload_url=http://192.168.1.20/hook'], /private address/],
        [['-d', 'payload_url=http://169.254.169.254/latest/meta-data/'], /link-local address/],
        [['-d', 'payload_url=http://[::ffff:10.0.0.1]/'], /private address/],
      ];
      for (const [args, message] of cases) {
        const reply = await curl(['-XPOST', url(), ...args, ...alice]);
        assert.equal(reply.status, 400, `${args.join(' ')}: ${reply.body}`);
        assert.equal(reply.json.error.status, 'INVALID_ARGUMENT');
        assert.match(reply.json.error.message, message);
        const badRequest = reply.json.error.details.find((d: { '@type': string }) => d['@type'].endsWith('BadRequest'));
        assert.equal(badRequest?.fieldViolations?.[0]?.field, 'payload_url', reply.body);
      }
      const project = await curl(['-XPOST', url('alpha', 'nope'), '-d', `payload_url=${HOOK}`, ...alice]);
      assert.equal(project.status, 404, project.body);
      assert.match(project.json.error.message, /project 'nope' not found/);
      const spider = await curl(['-XPOST', url('nope'), '-d', `payload_url=${HOOK}`, ...alice]);
      assert.equal(spider.status, 404, spider.body);
      assert.match(spider.json.error.message, /spider 'nope' not found/);
      const method = await curl(['-XPATCH', url(), ...alice]);
      assert.equal(method.status, 405, method.body);
    });

    it('is the WebhookService singleton over REST and gRPC', async () => {
      const { server } = harness();
      const A = authOf(ALICE);
      const patched = await request(server, 'PATCH', '/v1/projects/quotes/spiders/alpha/webhook', { auth: A, json: { payloadUrl: HOOK } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.json.payloadUrl, HOOK);
      const got = await request(server, 'GET', '/v1/projects/quotes/spiders/alpha/webhook', { auth: A });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.json, patched.json);
      const refused = await request(server, 'PATCH', '/v1/projects/quotes/spiders/alpha/webhook', { auth: A, json: { payloadUrl: 'http://10.0.0.1/' } });
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.text, /webhook\.payload_url/);

      const client = new WebhookServiceClient(server.address, grpc.credentials.createInsecure());
      try {
        const md = auth(A);
        const viaGrpc = await unary(client.getWebhook.bind(client), GetWebhookRequest.fromPartial({ name: 'projects/quotes/spiders/alpha/webhook' }), md);
        assert.equal(viaGrpc.payloadUrl, HOOK);
        const updated = await unary(
          client.updateWebhook.bind(client),
          UpdateWebhookRequest.fromPartial({ webhook: { name: 'projects/quotes/spiders/alpha/webhook', payloadUrl: 'https://hooks.example.com/grpc' }, updateMask: ['payload_url'] }),
          md,
        );
        assert.equal(updated.payloadUrl, 'https://hooks.example.com/grpc');
        const badMask = await grpcError(
          unary(client.updateWebhook.bind(client), UpdateWebhookRequest.fromPartial({ webhook: { name: 'projects/quotes/spiders/alpha/webhook', payloadUrl: HOOK }, updateMask: ['last_error'] }), md),
        );
        assert.equal(badMask.code, grpc.status.INVALID_ARGUMENT);
        const badName = await grpcError(unary(client.getWebhook.bind(client), GetWebhookRequest.fromPartial({ name: 'projects/quotes/spiders/alpha' }), md));
        assert.equal(badName.code, grpc.status.INVALID_ARGUMENT);
        assert.ok(statusDetails(badName).typeUrls.includes('type.googleapis.com/google.rpc.BadRequest'));
        const denied = await grpcError(unary(client.getWebhook.bind(client), GetWebhookRequest.fromPartial({ name: 'projects/quotes/spiders/alpha/webhook' }), auth(authOf(BOB))));
        assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
        const anonymous = await grpcError(unary(client.getWebhook.bind(client), GetWebhookRequest.fromPartial({ name: 'projects/quotes/spiders/alpha/webhook' }), auth()));
        assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED);
        await unary(client.deleteWebhook.bind(client), DeleteWebhookRequest.fromPartial({ name: 'projects/quotes/spiders/alpha/webhook' }), md);
        const missing = await grpcError(unary(client.getWebhook.bind(client), GetWebhookRequest.fromPartial({ name: 'projects/quotes/spiders/alpha/webhook' }), md));
        assert.equal(missing.code, grpc.status.NOT_FOUND);
      } finally {
        client.close();
      }
    });
  });

  describe(`webhook SSRF guard and job delivery status (${kind})`, () => {
    // Authentication off so that a simulated agent can connect; webhook_allow_private stays off (the default).
    const harness = useServer(kind, { settings: { enable_authentication: 'false' } });
    let receiver: WebhookReceiver;
    let agent: SimAgent | undefined;

    before(async () => {
      await uploadQuotes(harness().server, undefined);
      receiver = await startWebhookReceiver();
    });
    after(async () => {
      agent?.close();
      await receiver?.close();
    });

    const runJob = async (spider: string, items: number) => {
      agent?.close();
      agent = new SimAgent({ address: harness().server.address, items, runMs: 0 });
      await agent.connect();
      const id = await schedule(harness().server, undefined, spider, {});
      await waitForJob(() => harness().server, undefined, spider, id, (j) => j.state === 'SUCCEEDED', 20_000, 'SUCCEEDED');
      return id;
    };

    it('fails the delivery of a name that resolves to a loopback address, without sending anything', async () => {
      const { server } = harness();
      const set = await curl(['-XPOST', `${server.baseUrl}/projects/quotes/spiders/alpha/webhook`, '-d', `payload_url=http://localhost:${receiver.port}/hook`]);
      assert.equal(set.status, 200, set.body); // a name is checked when it is used: it may resolve elsewhere by then
      const id = await runJob('alpha', 2);
      const job = await waitFor('a FAILED delivery', 15_000, () => getJob(server, undefined, 'alpha', id), (j) => j.webhookDelivery?.state === 'FAILED');
      assert.match(job.webhookDelivery.lastError, /localhost resolves to (127\.0\.0\.1|::1) \(loopback\).*webhook_allow_private/);
      assert.equal(job.webhookDelivery.deliveredItems ?? '0', '0');
      assert.equal(job.webhookDelivery.totalItems, '2');
      assert.equal(job.webhookDelivery.payloadUrl, `http://localhost:${receiver.port}/hook`);
      assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
      const hook = await request(server, 'GET', '/v1/projects/quotes/spiders/alpha/webhook');
      assert.equal(hook.json.failedDeliveries, '1');
      assert.equal(hook.json.pendingDeliveries ?? '0', '0');
      assert.match(hook.json.lastError, /loopback/);
    });

    it('records a job without items as DONE at once, and no delivery for a spider without a webhook', async () => {
      const { server } = harness();
      const empty = await runJob('alpha', 0);
      const job = await getJob(server, undefined, 'alpha', empty);
      assert.equal(job.webhookDelivery?.state, 'DONE', JSON.stringify(job));
      assert.equal(job.webhookDelivery.totalItems ?? '0', '0');
      const none = await runJob('beta', 1);
      assert.equal((await getJob(server, undefined, 'beta', none)).webhookDelivery, undefined);
      const listed = await request(server, 'GET', '/v1/projects/quotes/spiders/alpha/jobs');
      assert.equal(listed.status, 200, listed.text);
      const byName = new Map((listed.json.jobs as { name: string; webhookDelivery?: { state: string } }[]).map((j) => [j.name.split('/').pop(), j]));
      assert.equal(byName.get(empty)?.webhookDelivery?.state, 'DONE');
    });
  });
}
