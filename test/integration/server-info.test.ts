/**
 * ServerService.GetServerInfo (GET /v1/server) through the real server:
 * admins see the version, database kind, uptime and every [server] key with
 * its value, default and source; nobody else gets it; the SMTP password and
 * a database URL's password never appear in the answer. Also the admin
 * self-protection of UpdateUser (no removing one's own admin role, no
 * disabling oneself). Runs once per database kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GetServerInfoRequest, ServerServiceClient } from '../../gen/scrapydd/v1/server.js';
import { SERVER_KEYS } from '../../src/config/schema.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { auth, grpcError, unary } from '../support/grpc-client.js';
import { request, type JsonObject } from '../support/http-client.js';
import { addUser, ADMIN, ALICE, authOf } from '../support/http-harness.js';
import { startTestServer, type TestServer } from '../support/server-process.js';
import { TEST_PYTHON } from '../support/eggs.js';

const SMTP_PASSWORD = 'Smtp-Pa55-word-xyzzy';
const DB_PASSWORD = 'Db-Pa55-word-plugh';

for (const kind of testDatabaseKinds()) {
  describe(`GetServerInfo (${kind})`, () => {
    let db: TestDatabase;
    let server: TestServer;
    before(async () => {
      db = await createTestDatabase(kind);
      // PostgreSQL trusts local connections here, so a password in the URL is accepted and ignored.
      const databaseUrl = kind === 'postgres' ? db.url.replace('//postgres@', `//postgres:${DB_PASSWORD}@`) : db.url;
      assert.ok(kind === 'sqlite' || databaseUrl.includes(DB_PASSWORD), `expected a user in ${db.url}`);
      server = await startTestServer({
        databaseUrl,
        settings: { runner_python: TEST_PYTHON, smtp_server: 'mail.example.com', smtp_user: 'mailer', smtp_passwd: SMTP_PASSWORD, jobs_to_keep: '7' },
      });
      await addUser(server, ADMIN);
      await addUser(server, ALICE);
    });
    after(async () => {
      await server?.stop();
      await db?.drop();
    });

    it('answers an admin with version, database kind, uptime and every [server] key, secrets redacted', async () => {
      const reply = await request(server, 'GET', '/v1/server', { auth: authOf(ADMIN) });
      assert.equal(reply.status, 200, reply.text);
      assert.ok(!reply.text.includes(SMTP_PASSWORD), 'the SMTP password is in the answer');
      assert.ok(!reply.text.includes(DB_PASSWORD), 'the database password is in the answer');
      const info = reply.json;
      assert.match(info.version as string, /^\d+\.\d+\.\d+/);
      assert.equal(info.databaseKind, kind);
      const start = Date.parse(info.startTime as string);
      const now = Date.parse(info.currentTime as string);
      assert.ok(start <= now && now - start < 5 * 60_000, `start ${info.startTime}, now ${info.currentTime}`);

      const settings = info.settings as JsonObject[];
      assert.deepEqual(settings.map((s) => s.key), Object.keys(SERVER_KEYS), 'every [server] key, in schema order');
      const byKey = new Map(settings.map((s) => [s.key as string, s]));
      const port = byKey.get('bind_port')!;
      assert.equal(port.value, String(server.port));
      assert.equal(port.isDefault, undefined, 'bind_port is configured');
      assert.match(port.source as string, /scrapydd\.conf$/);
      assert.equal(byKey.get('jobs_to_keep')!.value, '7');
      assert.equal(byKey.get('jobs_to_keep')!.defaultValue, '100');
      const timeout = byKey.get('webhook_timeout')!;
      assert.deepEqual([timeout.value, timeout.defaultValue, timeout.isDefault, timeout.source], ['30', '30', true, 'default']);
      assert.equal(byKey.get('smtp_user')!.value, 'mailer');
      const passwd = byKey.get('smtp_passwd')!;
      assert.equal(passwd.redacted, true);
      assert.equal(passwd.value, undefined);
      assert.equal(passwd.isDefault, undefined);
      const url = byKey.get('database_url')!.value as string;
      assert.ok(url.startsWith(kind === 'sqlite' ? 'sqlite:///' : 'postgresql://'), url);
      if (kind === 'postgres') assert.ok(url.includes('postgres:***@'), url);
    });

    it('refuses users who are not admins, over REST and gRPC', async () => {
      const reply = await request(server, 'GET', '/v1/server', { auth: authOf(ALICE) });
      assert.equal(reply.status, 403, reply.text);
      assert.equal(reply.json.error.status, 'PERMISSION_DENIED');
      assert.ok(!reply.text.includes(SMTP_PASSWORD));
      const anonymous = await request(server, 'GET', '/v1/server');
      assert.equal(anonymous.status, 401, anonymous.text);

      const client = new ServerServiceClient(server.address, grpc.credentials.createInsecure());
      try {
        const err = await grpcError(unary(client.getServerInfo.bind(client), GetServerInfoRequest.fromPartial({}), auth(authOf(ALICE))));
        assert.equal(err.code, grpc.status.PERMISSION_DENIED);
        const ok = await unary(client.getServerInfo.bind(client), GetServerInfoRequest.fromPartial({}), auth(authOf(ADMIN)));
        assert.equal(ok.databaseKind, kind);
        assert.equal(ok.settings.find((s) => s.key === 'smtp_passwd')?.value, '');
      } finally {
        client.close();
      }
    });

    it('keeps an admin from removing their own admin role or disabling themselves', async () => {
      for (const [field, value] of [['admin', false], ['disabled', true]] as const) {
        const reply = await request(server, 'PATCH', `/v1/users/${ADMIN.name}?updateMask=${field}`, { auth: authOf(ADMIN), json: { [field]: value } });
        assert.equal(reply.status, 400, `${field}: ${reply.text}`);
        assert.match(reply.json.error.message as string, /your own admin role or disable yourself/);
      }
      const me = await request(server, 'GET', `/v1/users/${ADMIN.name}`, { auth: authOf(ADMIN) });
      assert.equal(me.json.admin, true);
      assert.equal(me.json.disabled, undefined);
      // Another admin may do both to a different user.
      const other = await request(server, 'PATCH', `/v1/users/${ALICE.name}?updateMask=admin,disabled`, { auth: authOf(ADMIN), json: { admin: true, disabled: true } });
      assert.equal(other.status, 200, other.text);
      assert.deepEqual([other.json.admin, other.json.disabled], [true, true]);
    });
  });
}
