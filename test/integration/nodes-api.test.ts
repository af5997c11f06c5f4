/**
 * Node keys and nodes through the real server: keys made by admins (REST and
 * `scrapydd nodekey`), registration without user credentials over REST and
 * gRPC, single use under races, expiry, node tokens reaching only the agent
 * methods, and the admin node API. Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CreateNodeRequest, NodeServiceClient } from '../../gen/scrapydd/v1/node.js';
import { FetchEggRequest } from '../../gen/scrapydd/v1/node_session.js';
import { ListProjectsRequest, ProjectServiceClient } from '../../gen/scrapydd/v1/project.js';
import { testDatabaseKinds } from '../support/databases.js';
import { auth, bearer, closeAll, grpcError, statusDetails, unary } from '../support/grpc-client.js';
import { request, type JsonObject, type Reply } from '../support/http-client.js';
import { ADMIN, ALICE, authOf, useServer } from '../support/http-harness.js';
import { basic, type TestServer } from '../support/server-process.js';

const KEY_NAME = /^nodeKeys\/(\d{1,20})$/;
const DISPLAY_NAME = /^[a-z]+-[a-z]+-[a-z]+$/;

function ok(reply: Reply, what: string): JsonObject {
  assert.equal(reply.status, 200, `${what}: ${reply.text}`);
  return reply.json;
}

function refused(reply: Reply, status: number, reason: string | undefined, what: string): void {
  assert.equal(reply.status, status, `${what}: ${reply.text}`);
  if (reason) assert.equal(reply.json.error.details[0].reason, reason, `${what}: ${reply.text}`);
}

async function createKey(server: TestServer, tags: string[] = []): Promise<{ name: string; secret: string; json: JsonObject }> {
  const json = ok(await request(server, 'POST', '/v1/nodeKeys', { auth: authOf(ADMIN), json: { tags } }), 'CreateNodeKey');
  return { name: json.name as string, secret: json.secret as string, json };
}

/** CreateNode over REST without credentials: the node in the body, the key's secret in the query. */
function registerRest(server: TestServer, key: { name: string; secret: string }, node: JsonObject = {}, authorization?: string) {
  return request(server, 'POST', `/v1/nodes?nodeKeySecret=${encodeURIComponent(key.secret)}`, {
    auth: authorization,
    json: { nodeKey: key.name, ...node },
  });
}

const raw = (b: Buffer) => b;

/** The final status of an agent method called with `authorization` (any outcome but a refusal is fine). */
function agentCallStatus(server: TestServer, method: 'StreamNodeSession' | 'FetchEgg', authorization: string): Promise<grpc.StatusObject> {
  const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  const options = { deadline: Date.now() + 5_000 };
  const path = `/scrapydd.v1.NodeSessionService/${method}`;
  return new Promise<grpc.StatusObject>((resolve) => {
    if (method === 'StreamNodeSession') {
      const call = client.makeBidiStreamRequest(path, raw, raw, auth(authorization), options);
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', resolve);
      call.write(Buffer.alloc(0));
      call.end();
    } else {
      const req = Buffer.from(FetchEggRequest.encode(FetchEggRequest.fromPartial({ sha256: '0'.repeat(64) })).finish());
      const call = client.makeServerStreamRequest(path, raw, raw, req, auth(authorization), options);
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', resolve);
    }
  }).finally(() => client.close());
}

for (const kind of testDatabaseKinds()) {
  describe(`node keys and nodes over the API on ${kind}`, () => {
    const h = useServer(kind, { users: [ADMIN, ALICE] });
    const server = () => h().server;

    it('only admins create and list node keys', async () => {
      refused(await request(server(), 'POST', '/v1/nodeKeys', { auth: authOf(ALICE), json: {} }), 403, 'PERMISSION_DENIED', 'alice creates');
      refused(await request(server(), 'GET', '/v1/nodeKeys', { auth: authOf(ALICE) }), 403, 'PERMISSION_DENIED', 'alice lists');
      refused(await request(server(), 'POST', '/v1/nodeKeys', { json: {} }), 401, 'UNAUTHENTICATED', 'anonymous creates');
    });

    it('registers a node with a key and its secret, without user credentials, once', async () => {
      const before = Date.now();
      const key = await createKey(server(), ['CA', 'CA']);
      assert.match(key.name, KEY_NAME);
      assert.match(key.secret, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(key.json.tags, ['CA']);
      const ttl = Date.parse(key.json.expireTime as string) - Date.parse(key.json.createTime as string);
      assert.equal(ttl, 600_000, 'node_key_ttl defaults to 600 s');
      assert.ok(Date.parse(key.json.createTime as string) >= before - 1000);

      const listed = ok(await request(server(), 'GET', '/v1/nodeKeys', { auth: authOf(ADMIN) }), 'ListNodeKeys');
      const entry = (listed.nodeKeys as JsonObject[]).find((k) => k.name === key.name);
      assert.ok(entry, 'the new key is listed');
      assert.equal(entry.secret, undefined, 'the secret is never shown again');

      const node = ok(await registerRest(server(), key, { tags: ['AllDay', 'CA'] }), 'CreateNode');
      assert.match(node.name as string, /^nodes\/\d+$/);
      assert.equal(node.name, `nodes/${node.id}`);
      assert.match(node.displayName as string, DISPLAY_NAME);
      assert.deepEqual(node.tags, ['AllDay', 'CA']);
      assert.equal(node.isOnline ?? false, false);
      assert.equal(node.temporary ?? false, false);
      assert.equal(node.clientIp, '127.0.0.1');
      assert.match(node.nodeSecret as string, new RegExp(`^sdn_${node.id}_[A-Za-z0-9_-]{43}$`));
      assert.equal(node.nodeKey, undefined);

      refused(await registerRest(server(), key), 401, 'INVALID_NODE_KEY', 'the key again');
      const after = ok(await request(server(), 'GET', '/v1/nodeKeys', { auth: authOf(ADMIN) }), 'ListNodeKeys');
      assert.ok(!((after.nodeKeys ?? []) as JsonObject[]).some((k) => k.name === key.name), 'a used key is not listed');

      const got = ok(await request(server(), 'GET', `/v1/${node.name}`, { auth: authOf(ADMIN) }), 'GetNode');
      assert.equal(got.nodeSecret, undefined, 'the node secret is only in the CreateNode answer');
      assert.equal(got.displayName, node.displayName);
    });

    it('answers the same for a wrong secret, an unknown key and a bad key name, and keeps refusing bad user credentials', async () => {
      const key = await createKey(server());
      const wrongSecret = await registerRest(server(), { name: key.name, secret: 'A'.repeat(43) });
      const unknownKey = await registerRest(server(), { name: 'nodeKeys/123', secret: key.secret });
      refused(wrongSecret, 401, 'INVALID_NODE_KEY', 'wrong secret');
      refused(unknownKey, 401, 'INVALID_NODE_KEY', 'unknown key');
      assert.equal(wrongSecret.json.error.message, unknownKey.json.error.message, 'nothing tells which part was wrong');
      refused(await registerRest(server(), { name: 'projects/x', secret: key.secret }), 400, undefined, 'not a key name');
      refused(await registerRest(server(), { name: key.name, secret: '' }), 401, 'UNAUTHENTICATED', 'no secret');
      refused(await registerRest(server(), key, {}, basic(ADMIN.name, 'wrong-password')), 401, 'BAD_CREDENTIALS', 'bad Basic');
      // Neither attempt spent the key; an admin's credentials are fine but not needed.
      const node = ok(await registerRest(server(), key, { displayName: 'rack-7' }, authOf(ADMIN)), 'CreateNode as admin');
      assert.equal(node.displayName, 'rack-7');
    });

    it('lets exactly one of several concurrent registrations with one key through', async () => {
      const key = await createKey(server());
      const replies = await Promise.all(Array.from({ length: 6 }, () => registerRest(server(), key)));
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 401, 401, 401, 401, 401], replies.map((r) => r.text).join('\n'));
      for (const r of replies.filter((r) => r.status === 401)) assert.equal(r.json.error.details[0].reason, 'INVALID_NODE_KEY');
    });

    it('revokes a key with DeleteNodeKey', async () => {
      const key = await createKey(server());
      refused(await request(server(), 'DELETE', `/v1/${key.name}`, { auth: authOf(ALICE) }), 403, 'PERMISSION_DENIED', 'alice revokes');
      ok(await request(server(), 'DELETE', `/v1/${key.name}`, { auth: authOf(ADMIN) }), 'DeleteNodeKey');
      refused(await request(server(), 'DELETE', `/v1/${key.name}`, { auth: authOf(ADMIN) }), 404, undefined, 'again');
      refused(await registerRest(server(), key), 401, 'INVALID_NODE_KEY', 'a revoked key');
    });

    it('node tokens reach the agent methods only', async () => {
      const node = ok(await registerRest(server(), await createKey(server())), 'CreateNode');
      const token = node.nodeSecret as string;
      for (const method of ['StreamNodeSession', 'FetchEgg'] as const) {
        const status = await agentCallStatus(server(), method, bearer(token));
        // FetchEgg may refuse an egg no job of this node uses; the pipeline's refusal of node credentials is what must not happen.
        const refusedByPipeline =
          status.code === grpc.status.UNAUTHENTICATED || (status.code === grpc.status.PERMISSION_DENIED && /only for the agent/.test(status.details));
        assert.ok(!refusedByPipeline, `${method}: ${grpc.status[status.code]} ${status.details}`);
      }
      const wrong = await agentCallStatus(server(), 'StreamNodeSession', bearer(`sdn_${node.id}_${'A'.repeat(43)}`));
      assert.equal(wrong.code, grpc.status.UNAUTHENTICATED, wrong.details);

      const projects = new ProjectServiceClient(server().address, grpc.credentials.createInsecure());
      try {
        const err = await grpcError(unary(projects.listProjects.bind(projects), ListProjectsRequest.fromPartial({}), auth(bearer(token))));
        assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.details);
        assert.equal(statusDetails(err).errorInfo?.reason, 'PERMISSION_DENIED');
      } finally {
        closeAll(projects);
      }
      refused(await request(server(), 'GET', '/v1/projects', { auth: bearer(token) }), 403, 'PERMISSION_DENIED', 'REST with a node token');
      refused(await request(server(), 'GET', '/v1/nodes', { auth: bearer(token) }), 403, 'PERMISSION_DENIED', 'ListNodes with a node token');
    });

    it('gets, lists, updates and deletes nodes (admins only)', async () => {
      const node = ok(await registerRest(server(), await createKey(server(), ['eu']), { displayName: 'box-a' }), 'CreateNode');
      const name = node.name as string;
      refused(await request(server(), 'GET', `/v1/${name}`, { auth: authOf(ALICE) }), 403, 'PERMISSION_DENIED', 'alice gets');
      refused(await request(server(), 'GET', '/v1/nodes', { auth: authOf(ALICE) }), 403, 'PERMISSION_DENIED', 'alice lists');
      refused(await request(server(), 'GET', '/v1/nodes/424242', { auth: authOf(ADMIN) }), 404, undefined, 'unknown node');

      const all = ok(await request(server(), 'GET', '/v1/nodes', { auth: authOf(ADMIN) }), 'ListNodes').nodes as JsonObject[];
      assert.ok(all.some((n) => n.name === name));
      assert.ok(all.every((n) => n.nodeSecret === undefined));
      const offline = ok(await request(server(), 'GET', `/v1/nodes?filter=${encodeURIComponent('is_online = false AND tags:"eu"')}`, { auth: authOf(ADMIN) }), 'filter');
      assert.deepEqual((offline.nodes as JsonObject[]).map((n) => n.name), [name]);
      const online = ok(await request(server(), 'GET', `/v1/nodes?filter=${encodeURIComponent('is_online = true')}`, { auth: authOf(ADMIN) }), 'filter');
      assert.deepEqual(online.nodes ?? [], []);
      refused(await request(server(), 'GET', `/v1/nodes?filter=${encodeURIComponent('display_name = "x"')}`, { auth: authOf(ADMIN) }), 400, 'INVALID_FILTER', 'bad filter');
      const first = ok(await request(server(), 'GET', '/v1/nodes?pageSize=1', { auth: authOf(ADMIN) }), 'page 1');
      assert.equal((first.nodes as JsonObject[]).length, 1);
      const second = ok(await request(server(), 'GET', `/v1/nodes?pageSize=1&pageToken=${first.nextPageToken}`, { auth: authOf(ADMIN) }), 'page 2');
      assert.ok(BigInt((second.nodes as JsonObject[])[0]!.id) > BigInt((first.nodes as JsonObject[])[0]!.id));

      const patch = (mask: string, body: JsonObject, as = ADMIN) =>
        request(server(), 'PATCH', `/v1/${name}?updateMask=${mask}`, { auth: authOf(as), json: body });
      refused(await patch('displayName', { displayName: 'x' }, ALICE), 403, 'PERMISSION_DENIED', 'alice renames');
      refused(await patch('isOnline', { isOnline: true }), 400, undefined, 'is_online is output only');
      refused(await patch('tags', { tags: ['a b'] }), 400, 'INVALID_TAG', 'bad tag');
      const renamed = ok(await patch('displayName,tags', { displayName: 'box-b', tags: ['gpu', 'gpu', 'us'] }), 'UpdateNode');
      assert.deepEqual([renamed.displayName, renamed.tags], ['box-b', ['gpu', 'us']]);
      assert.equal(ok(await request(server(), 'GET', `/v1/${name}`, { auth: authOf(ADMIN) }), 'GetNode').displayName, 'box-b');

      refused(await request(server(), 'DELETE', `/v1/${name}`, { auth: authOf(ALICE) }), 403, 'PERMISSION_DENIED', 'alice deletes');
      ok(await request(server(), 'DELETE', `/v1/${name}`, { auth: authOf(ADMIN) }), 'DeleteNode');
      refused(await request(server(), 'GET', `/v1/${name}`, { auth: authOf(ADMIN) }), 404, undefined, 'deleted');
      const status = await agentCallStatus(server(), 'StreamNodeSession', bearer(node.nodeSecret as string));
      assert.equal(status.code, grpc.status.UNAUTHENTICATED, `a deleted node's token: ${status.details}`);
    });

    it('scrapydd nodekey create/list and node list work on the database; CreateNode works over gRPC', async () => {
      const created = await server().cli(['nodekey', 'create', '--tag', 'cli', '--tag', 'x.y']);
      assert.equal(created.code, 0, created.stderr);
      const id = /^node key: (\d+)$/m.exec(created.stdout)?.[1];
      const secret = /^secret: +([A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
      const expires = /^expires: +(\S+)$/m.exec(created.stdout)?.[1];
      assert.ok(id && secret && expires, created.stdout);
      assert.ok(Math.abs(Date.parse(expires) - Date.now() - 600_000) < 60_000, expires);
      const listed = await server().cli(['nodekey', 'list']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`^${id} +\\S+ +cli,x\\.y$`, 'm'));

      const nodes = new NodeServiceClient(server().address, grpc.credentials.createInsecure());
      try {
        const node = await unary(nodes.createNode.bind(nodes), CreateNodeRequest.fromPartial({ node: { nodeKey: id, tags: ['own'] }, nodeKeySecret: secret }), auth());
        assert.deepEqual(node.tags, ['own', 'cli', 'x.y']);
        assert.match(node.nodeSecret, /^sdn_\d+_/);
        const again = await grpcError(unary(nodes.createNode.bind(nodes), CreateNodeRequest.fromPartial({ node: { nodeKey: id }, nodeKeySecret: secret }), auth()));
        assert.equal(again.code, grpc.status.UNAUTHENTICATED);
        assert.equal(statusDetails(again).errorInfo?.reason, 'INVALID_NODE_KEY');

        const list = await server().cli(['node', 'list']);
        assert.equal(list.code, 0, list.stderr);
        assert.match(list.stdout, /^ID +NAME +STATE/);
        assert.match(list.stdout, new RegExp(`^${node.id} +${node.displayName} +offline +permanent +own,cli,x\\.y +127\\.0\\.0\\.1 +-$`, 'm'));
        const none = await server().cli(['node', 'list', '--filter', 'is_online = true']);
        assert.equal(none.stdout.trim().split('\n').length, 1, none.stdout);
        const bad = await server().cli(['node', 'list', '--filter', 'nonsense']);
        assert.equal(bad.code, 2, bad.stdout);
        assert.match(bad.stderr, /filter/);
      } finally {
        closeAll(nodes);
      }
    });
  });

  describe(`node key expiry on ${kind}`, () => {
    const h = useServer(kind, { users: [ADMIN], settings: { node_key_ttl: '1' } });
    const server = () => h().server;

    it('refuses a key after node_key_ttl and stops listing it', async () => {
      const key = await createKey(server());
      const expireTime = Date.parse(key.json.expireTime as string);
      assert.equal(expireTime - Date.parse(key.json.createTime as string), 1000);
      const deadline = Date.now() + 10_000;
      while (Date.now() <= expireTime + 50) {
        assert.ok(Date.now() < deadline, 'the key never expired');
        await new Promise((r) => setTimeout(r, 100));
      }
      refused(await registerRest(server(), key), 401, 'INVALID_NODE_KEY', 'expired key');
      const listed = ok(await request(server(), 'GET', '/v1/nodeKeys', { auth: authOf(ADMIN) }), 'ListNodeKeys');
      assert.deepEqual(listed.nodeKeys ?? [], []);
    });
  });
}
