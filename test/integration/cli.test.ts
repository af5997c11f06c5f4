import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { basic, runCli, startTestServer, writeConfig, type TestServer } from '../support/server-process.js';

for (const kind of testDatabaseKinds()) {
  describe(`scrapydd CLI (${kind})`, () => {
    let db: TestDatabase;
    let workDir: string;

    before(async () => {
      db = await createTestDatabase(kind);
      workDir = await mkdtemp(join(tmpdir(), 'scrapydd-cli-'));
      await writeConfig(workDir, db.url, 6800);
    });
    after(async () => {
      await rm(workDir, { recursive: true, force: true });
      await db.drop();
    });

    it('init-admin creates the first admin once and prints its password once', async () => {
      const first = await runCli(workDir, ['init-admin']);
      assert.equal(first.code, 0, first.stderr);
      const password = /password: (\S+)/.exec(first.stdout)?.[1];
      assert.ok(password && password.length >= 16, first.stdout);
      const second = await runCli(workDir, ['init-admin']);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, '');
    });

    it('adduser reads the password from standard input and refuses duplicates and weak passwords', async () => {
      const ok = await runCli(workDir, ['adduser', 'carol'], 'carol-password\n');
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "user 'carol' created\n");
      const dup = await runCli(workDir, ['adduser', 'carol'], 'carol-password\n');
      assert.equal(dup.code, 2);
      assert.equal(dup.stderr, "scrapydd: user 'carol' already exists\n");
      const weak = await runCli(workDir, ['adduser', 'dave'], 'short\n');
      assert.equal(weak.code, 2);
      assert.equal(weak.stderr, 'scrapydd: password must be at least 8 characters\n');
      const badName = await runCli(workDir, ['adduser', '../x'], 'long-enough\n');
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /user name '\.\.\/x' is not valid/);
    });

    it('passwd changes a password that the server then accepts', async () => {
      const changed = await runCli(workDir, ['passwd', 'carol'], 'new-carol-password\n');
      assert.equal(changed.code, 0, changed.stderr);
      let server: TestServer | undefined;
      try {
        server = await startTestServer({ databaseUrl: db.url });
        const good = await fetch(`${server.baseUrl}/listprojects.json`, { headers: { authorization: basic('carol', 'new-carol-password') } });
        assert.equal(good.status, 200);
        const old = await fetch(`${server.baseUrl}/listprojects.json`, { headers: { authorization: basic('carol', 'carol-password') } });
        assert.equal(old.status, 401);
      } finally {
        await server?.stop();
      }
    });
  });
}

describe('scrapydd CLI configuration errors', () => {
  it('names the key and the file of a bad value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-cli-'));
    try {
      await writeFile(join(dir, 'scrapydd.conf'), '[server]\nbind_port = abc\n');
      const res = await runCli(dir, ['server']);
      assert.equal(res.code, 2);
      assert.equal(res.stderr.trim(), `scrapydd: bind_port in ${join(dir, 'scrapydd.conf')}: 'abc' is not a port number (1-65535)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints help for every command', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scrapydd-cli-'));
    try {
      await writeFile(join(dir, 'scrapydd.conf'), '');
      for (const cmd of ['server', 'adduser', 'passwd', 'init-admin']) {
        const res = await runCli(dir, [cmd, '--help']);
        assert.equal(res.code, 0, cmd);
        assert.match(res.stdout, new RegExp(`Usage: scrapydd ${cmd}`));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
