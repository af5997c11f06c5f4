/**
 * Node keys, registration and node session state against real SQLite and
 * PostgreSQL through the domain and repo functions, with an injected clock
 * for key expiry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { hashSecret } from '../../src/auth/api-key-secret.js';
import type { Principal } from '../../src/auth/principal.js';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import type { Deps } from '../../src/domain/deps.js';
import { createNodeKey, listNodeKeys } from '../../src/domain/nodes/node-key-service.js';
import { onNodeDeleted } from '../../src/domain/nodes/node-events.js';
import { authenticateNodeToken, createTemporaryNode, deleteNode, listNodes, registerNode } from '../../src/domain/nodes/node-service.js';
import { Code, type DomainError } from '../../src/errors/domain-error.js';
import { SnowflakeGenerator } from '../../src/ids/snowflake.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import * as sessions from '../../src/storage/sessions-repo.js';
import * as repo from '../../src/storage/nodes-repo.js';
import { nowParam } from '../../src/storage/sql-dialect.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';

const ADMIN: Principal = { userId: undefined, username: 'root', admin: true, method: 'password' };
const USER: Principal = { userId: '5', username: 'alice', admin: false, method: 'password' };
const TTL = 60;
const badKey = (e: DomainError) => e.code === Code.UNAUTHENTICATED && e.reason === 'INVALID_NODE_KEY';

for (const kind of testDatabaseKinds()) {
  describe(`nodes in the database on ${kind}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let deps: Deps;
    let worker = 1;

    before(async () => {
      tdb = await createTestDatabase(kind);
      db = await openDatabase(parseDatabaseUrl(tdb.url));
      deps = {
        db,
        ids: new SnowflakeGenerator(worker++),
        logger: pino({ level: 'silent' }),
        settings: { nodeKeyTtlSeconds: TTL },
      } as unknown as Deps; // only what node code uses
    });

    after(async () => {
      await db?.close();
      await tdb?.drop();
    });

    const register = (key: { id: string; secret?: string }, over: Partial<Parameters<typeof registerNode>[1]> = {}, now?: Date) =>
      registerNode(deps, { nodeKey: `nodeKeys/${key.id}`, nodeKeySecret: key.secret!, displayName: '', tags: [], clientIp: '10.0.0.1', ...over }, now);

    it('creates keys valid for node_key_ttl, lists only usable ones, for admins only', async () => {
      const t0 = new Date('2030-01-01T00:00:00.000Z');
      const key = await createNodeKey(deps, ADMIN, { tags: ['gpu', 'gpu', ' eu '] }, t0);
      assert.match(key.secret!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(key.secretHash, hashSecret(key.secret!));
      assert.deepEqual(key.tags, ['gpu', 'eu']);
      assert.equal(key.createTime, t0.toISOString());
      assert.equal(key.expireTime, new Date(t0.getTime() + TTL * 1000).toISOString());
      const ids = async (now: Date) => (await listNodeKeys(deps, ADMIN, { pageSize: 0, pageToken: '' }, now)).items.map((k) => k.id);
      assert.ok((await ids(new Date(t0.getTime() + (TTL - 1) * 1000))).includes(key.id));
      assert.ok(!(await ids(new Date(t0.getTime() + TTL * 1000))).includes(key.id), 'expired at expire_time');
      await assert.rejects(createNodeKey(deps, USER, { tags: [] }), (e: DomainError) => e.code === Code.PERMISSION_DENIED);
      await assert.rejects(listNodeKeys(deps, USER, { pageSize: 0, pageToken: '' }), (e: DomainError) => e.code === Code.PERMISSION_DENIED);
    });

    it('refuses an expired key (injected clock) and does not spend it', async () => {
      const t0 = new Date();
      const key = await createNodeKey(deps, ADMIN, { tags: [] }, t0);
      await assert.rejects(register(key, {}, new Date(t0.getTime() + (TTL + 1) * 1000)), badKey);
      assert.equal((await repo.findNodeKey(db, key.id))!.useTime, undefined);
      const node = await register(key, {}, new Date(t0.getTime() + (TTL - 1) * 1000));
      assert.equal(node.temporary, false);
    });

    it('refuses a wrong secret with the same error without spending the key, then registers once', async () => {
      const key = await createNodeKey(deps, ADMIN, { tags: ['eu'] });
      await assert.rejects(register({ id: key.id, secret: 'A'.repeat(43) }), badKey);
      await assert.rejects(register({ id: String(BigInt(key.id) + 1n), secret: key.secret }), badKey);
      const node = await register(key, { displayName: '  Big box ', tags: ['gpu', 'eu'] });
      assert.equal(node.displayName, 'Big box');
      assert.deepEqual(node.tags, ['gpu', 'eu']);
      assert.equal(node.clientIp, '10.0.0.1');
      assert.equal(node.isOnline, false);
      assert.equal(node.runningJobs, 0);
      assert.match(node.secret!, new RegExp(`^sdn_${node.id}_[A-Za-z0-9_-]{43}$`));
      await assert.rejects(register(key), badKey);
      const principal = await authenticateNodeToken(deps, node.secret!);
      assert.deepEqual(principal, { userId: undefined, username: `nodes/${node.id}`, admin: false, method: 'node-token', nodeId: node.id });
      assert.equal(await authenticateNodeToken(deps, 'not-a-node-token'), undefined);
      const wrong = `sdn_${node.id}_${'A'.repeat(43)}`;
      await assert.rejects(authenticateNodeToken(deps, wrong), (e: DomainError) => e.code === Code.UNAUTHENTICATED);
      await assert.rejects(authenticateNodeToken(deps, 'sdn_garbage'), (e: DomainError) => e.code === Code.UNAUTHENTICATED);
    });

    it('spends a key once when registrations race', async () => {
      const key = await createNodeKey(deps, ADMIN, { tags: [] });
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => register(key)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(badKey(r.reason as DomainError), String(r.reason));
    });

    it('marks a node online and offline by session, records heartbeats, counts running jobs', async () => {
      const node = await createTemporaryNode(deps, { tags: ['a', 'a'], clientIp: '10.0.0.2', slots: 3, agentVersion: '1.0' });
      assert.equal(node.temporary, true);
      assert.equal(node.secretHash, undefined);
      assert.deepEqual(node.tags, ['a']);
      assert.match(node.displayName, /^[a-z]+-[a-z]+-[a-z]+$/);
      assert.equal(node.slots, 3);
      await assert.rejects(authenticateNodeToken(deps, `sdn_${node.id}_${'A'.repeat(43)}`), (e: DomainError) => e.code === Code.UNAUTHENTICATED);

      await sessions.openSession(db, { id: '111', nodeId: node.id, clientIp: '10.0.0.3', slots: 4, agentVersion: '2.0', tags: ['b'] });
      const online = await repo.findNode(db, node.id);
      assert.equal(online?.isOnline, true);
      assert.equal(online?.currentSessionId, '111');
      assert.deepEqual([online?.clientIp, online?.slots, online?.agentVersion, online?.tags], ['10.0.0.3', 4, '2.0', ['b']]);
      assert.ok(online?.lastHeartbeatTime);
      await sessions.openSession(db, { id: '222', nodeId: node.id, clientIp: '10.0.0.3', slots: 4, agentVersion: '2.0' });
      const kept = await repo.findNode(db, node.id);
      assert.deepEqual(kept?.tags, ['b'], 'tags kept when not given');
      await assert.rejects(sessions.openSession(db, { id: '1', nodeId: '999', clientIp: '', slots: 1, agentVersion: '' }), 'no session for a node that does not exist');

      const before = kept!.lastHeartbeatTime!;
      await new Promise((r) => setTimeout(r, 5)); // timestamps have millisecond resolution
      assert.deepEqual(await sessions.heartbeats(db, [{ sessionId: '222', nodeId: node.id }]), new Set(['222']));
      assert.ok((await repo.findNode(db, node.id))!.lastHeartbeatTime! > before);
      const both = await sessions.heartbeats(db, [{ sessionId: '111', nodeId: node.id }, { sessionId: '222', nodeId: node.id }]);
      assert.deepEqual(both, new Set(['222']), 'a replaced session is told so, in a batch too');

      await sessions.closeSession(db, '111', node.id);
      assert.equal((await repo.findNode(db, node.id))?.isOnline, true, 'an old session does not take a newer one offline');
      const onlineIds = (await listNodes(deps, ADMIN, { pageSize: 0, pageToken: '', filter: 'is_online = true' })).items.map((n) => n.id);
      assert.deepEqual(onlineIds, [node.id]);
      await sessions.closeSession(db, '222', node.id);
      const offline = await repo.findNode(db, node.id);
      assert.deepEqual([offline?.isOnline, offline?.currentSessionId], [false, undefined]);

      // running_jobs counts RUNNING and CANCELLING jobs on the node.
      const now = nowParam();
      await db.query(`INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, ['1', 'p', now, now]);
      await db.query(`INSERT INTO spiders (id, project_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, ['2', '1', 's', now, now]);
      let jobId = 10;
      for (const state of ['RUNNING', 'CANCELLING', 'SUCCEEDED', 'PENDING', 'RUNNING']) {
        const nodeId = jobId === 14 ? '999' : node.id;
        await db.query(
          `INSERT INTO jobs (id, job_key, project_id, spider_id, version_name, egg_sha256, egg_size, settings_module, state,
             timeout_seconds, node_id, created_at, updated_at) VALUES (?, ?, '1', '2', 'v', 'x', 1, 'm', ?, 60, ?, ?, ?)`,
          [String(jobId), `job${jobId}`, state, nodeId, now, now],
        );
        jobId++;
      }
      assert.equal((await repo.findNode(db, node.id))?.runningJobs, 2);
    });

    it('lists nodes by filter and page, and deletes them with an event', async () => {
      const tagged = await createTemporaryNode(deps, { tags: ['Zeta_1'], clientIp: '', slots: 1, agentVersion: '' });
      await createTemporaryNode(deps, { tags: ['zeta_1', 'ZetaX1'], clientIp: '', slots: 1, agentVersion: '' });
      const byTag = await listNodes(deps, ADMIN, { pageSize: 0, pageToken: '', filter: 'tags:"Zeta_1"' });
      assert.deepEqual(byTag.items.map((n) => n.id), [tagged.id], 'exact, case-sensitive tag match');
      const all: string[] = [];
      let pageToken = '';
      do {
        const page = await listNodes(deps, ADMIN, { pageSize: 2, pageToken, filter: '' });
        assert.ok(page.items.length <= 2);
        all.push(...page.items.map((n) => n.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      assert.deepEqual(all, [...all].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
      assert.ok(all.length >= 5, `${all.length} nodes`);
      await assert.rejects(listNodes(deps, USER, { pageSize: 0, pageToken: '', filter: '' }), (e: DomainError) => e.code === Code.PERMISSION_DENIED);

      const deleted: string[] = [];
      const off = onNodeDeleted((id) => deleted.push(id));
      try {
        await sessions.openSession(db, { id: '77', nodeId: tagged.id, clientIp: '', slots: 1, agentVersion: '' });
        await deleteNode(deps, ADMIN, `nodes/${tagged.id}`);
        assert.deepEqual(deleted, [tagged.id]);
        assert.equal(await repo.findNode(db, tagged.id), undefined);
        assert.deepEqual(await db.query(`SELECT id FROM node_sessions WHERE node_id = ?`, [tagged.id]), [], 'sessions deleted with the node');
        await assert.rejects(deleteNode(deps, ADMIN, `nodes/${tagged.id}`), (e: DomainError) => e.code === Code.NOT_FOUND);
      } finally {
        off();
      }
    });
  });
}
