/**
 * The HTTPS port: certificates made by the real `scrapydd cert` CLI, the real
 * server on https_port, and real clients (curl, Node https and fetch, grpc-js,
 * a reflection client); then mTLS with client_validation = true, where an
 * agent's certificate (CN nodes/<id>) is its credential.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import pg from 'pg';
import { GrpcReflection } from 'grpc-js-reflection-client';
import { ListProjectsRequest, ProjectServiceClient } from '../../gen/scrapydd/v1/project.js';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../support/databases.js';
import { addUser, auth, callOptions, closeAll, grpcError, statusDetails, unary } from '../support/grpc-client.js';
import { basic, freePort, runCli, startTestServer, writeConfig, type TestServer } from '../support/server-process.js';

const DEADLINE_MS = 30_000;
const ADMIN = basic('admin', 'admin-password-1');
const NODE_ID = '7212345678901234567';
const MISSING_NODE_ID = '7212345678901234999';

interface CertPair {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

interface Keys {
  dir: string;
  ca: Buffer;
  caFile: string;
  /** Client certificates for nodes/NODE_ID and nodes/MISSING_NODE_ID. */
  node: CertPair;
  missingNode: CertPair;
  /** A certificate for nodes/NODE_ID from another CA. */
  foreign: CertPair;
}

async function cli(workDir: string, args: string[]): Promise<string> {
  const res = await runCli(workDir, args);
  assert.equal(res.code, 0, `scrapydd ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** A work dir whose keys/ holds a CA, a server certificate for localhost and client certificates, all made by the CLI. */
async function makeKeys(): Promise<Keys> {
  const dir = await mkdtemp(join(tmpdir(), 'scrapydd-tls-'));
  const other = await mkdtemp(join(tmpdir(), 'scrapydd-tls-other-'));
  try {
    for (const d of [dir, other]) await writeConfig(d, 'sqlite:///unused.db', await freePort());
    await cli(dir, ['cert', 'ca']);
    await cli(dir, ['cert', 'server', '--name', 'localhost']);
    await cli(dir, ['cert', 'client', '--node', `nodes/${NODE_ID}`, '--out', 'agent']);
    await cli(dir, ['cert', 'client', '--node', `nodes/${MISSING_NODE_ID}`, '--out', 'agent']);
    await cli(other, ['cert', 'ca']);
    await cli(other, ['cert', 'client', '--node', `nodes/${NODE_ID}`]);
    const pair = async (d: string, id: string) => ({
      cert: await readFile(join(d, `node-${id}.crt`)),
      key: await readFile(join(d, `node-${id}.key`)),
      certFile: join(d, `node-${id}.crt`),
      keyFile: join(d, `node-${id}.key`),
    });
    return {
      dir,
      ca: await readFile(join(dir, 'keys', 'ca.crt')),
      caFile: join(dir, 'agent', 'ca.crt'),
      node: await pair(join(dir, 'agent'), NODE_ID),
      missingNode: await pair(join(dir, 'agent'), MISSING_NODE_ID),
      foreign: await pair(join(other, 'keys'), NODE_ID),
    };
  } finally {
    await rm(other, { recursive: true, force: true });
  }
}

/** A server in its own work dir (with a copy of keys/) on a fresh database, with https_port and an admin. */
async function startTlsServer(db: TestDatabase, keys: Keys, settings: Record<string, string>) {
  const workDir = await mkdtemp(join(tmpdir(), 'scrapydd-tls-srv-'));
  await cp(join(keys.dir, 'keys'), join(workDir, 'keys'), { recursive: true });
  const httpsPort = await freePort();
  const server = await startTestServer({ databaseUrl: db.url, workDir, settings: { https_port: String(httpsPort), ...settings } });
  await addUser(server, 'admin', 'admin-password-1', true);
  return { server, httpsPort, workDir };
}

async function curl(args: string[]) {
  const res = await execa('curl', ['-sS', '--max-time', '20', '-w', '\n%{http_code} %{http_version}', ...args], {
    reject: false,
    timeout: DEADLINE_MS,
  });
  const lines = res.stdout.split('\n');
  const [status, version] = lines.pop()!.split(' ');
  return { exitCode: res.exitCode, body: lines.join('\n'), status: Number(status), version, stderr: res.stderr };
}

interface HttpsReply {
  status: number;
  body: string;
  alpn: string | false;
}

/** One HTTPS request with Node's https module; rejects with the TLS error when the handshake is refused. */
function httpsGet(port: number, path: string, opts: https.RequestOptions & { ALPNProtocols?: string[] }): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', servername: 'localhost', port, path, agent: false, timeout: DEADLINE_MS, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, alpn: (res.socket as tls.TLSSocket).alpnProtocol ?? false }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** The error code a refused HTTPS request fails with. */
async function refusal(port: number, opts: https.RequestOptions & { ALPNProtocols?: string[] }): Promise<string> {
  try {
    const res = await httpsGet(port, '/healthz', opts);
    return `answered ${res.status}`;
  } catch (err) {
    return `${(err as NodeJS.ErrnoException).code} ${(err as Error).message}`;
  }
}

/**
 * How the server treats a TLS client that sends nothing after its side of the
 * handshake (so a refusal arrives as the server's alert, not a reset): the
 * error code, 'closed', or 'accepted' when the connection is still up after
 * `settleMs` (a TLS 1.3 server verifies the client certificate after the
 * client has finished, so secureConnect alone proves nothing).
 */
function handshake(port: number, opts: tls.ConnectionOptions, settleMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', port, ALPNProtocols: ['http/1.1'], ...opts });
    let settle: NodeJS.Timeout | undefined;
    const done = (outcome: string) => {
      clearTimeout(deadline);
      clearTimeout(settle);
      socket.destroy();
      resolve(outcome);
    };
    const deadline = setTimeout(() => done('no handshake in time'), DEADLINE_MS);
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('data', () => done('data'));
    socket.on('close', () => done('closed'));
    socket.on('secureConnect', () => (settle = setTimeout(() => done('accepted'), settleMs)));
  });
}

function projects(port: number, creds: grpc.ChannelCredentials): ProjectServiceClient {
  return new ProjectServiceClient(`127.0.0.1:${port}`, creds, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.default_authority': 'localhost',
  });
}

const listProjects = (client: ProjectServiceClient, md: grpc.Metadata) =>
  unary(client.listProjects.bind(client), ListProjectsRequest.fromPartial({}), md);

const raw = (b: Buffer) => b;

/** The final status of a call to `path` with one empty message and no metadata (server-streaming or bidi). */
function streamStatus(client: grpc.Client, path: string, bidi: boolean): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    const call = bidi
      ? client.makeBidiStreamRequest(path, raw, raw, new grpc.Metadata(), callOptions())
      : client.makeServerStreamRequest(path, raw, raw, Buffer.alloc(0), new grpc.Metadata(), callOptions());
    call.on('data', () => undefined);
    call.on('error', () => undefined); // the status event carries the outcome
    call.on('status', resolve);
    if (bidi) {
      (call as grpc.ClientDuplexStream<Buffer, Buffer>).write(Buffer.alloc(0));
      (call as grpc.ClientDuplexStream<Buffer, Buffer>).end();
    }
  });
}

async function insertNode(db: TestDatabase, id: string): Promise<void> {
  const now = new Date().toISOString();
  const sql = 'INSERT INTO nodes (id, display_name, created_at, updated_at) VALUES ';
  if (db.kind === 'sqlite') {
    const file = db.url.replace(/^sqlite:\/\//, '');
    const conn = new Database(file, { timeout: 10_000 });
    try {
      conn.prepare(`${sql}(?, ?, ?, ?)`).run(BigInt(id), 'tls-test-node', now, now);
    } finally {
      conn.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`${sql}($1, $2, $3, $4)`, [id, 'tls-test-node', now, now]);
  } finally {
    await client.end();
  }
}

describe('HTTPS start-up errors', () => {
  it('stops with a message naming the missing certificate, key or CA file', async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'scrapydd-tls-missing-'));
    try {
      const start = (settings: Record<string, string>) =>
        startTestServer({ databaseUrl: `sqlite:///${join(workDir, 'db.sqlite')}`, workDir, settings }).then(
          async (s) => (await s.stop(), 'started'),
          (err: Error) => err.message,
        );
      const noCert = await start({ https_port: String(await freePort()), server_name: 'tls.example' });
      assert.match(noCert, /https_port is set, but \S*keys\/tls\.example\.crt does not exist/);
      assert.match(noCert, /scrapydd cert server/);

      await cli(workDir, ['cert', 'ca']);
      await cli(workDir, ['cert', 'server', '--name', 'tls.example']);
      await rm(join(workDir, 'keys', 'tls.example.key'));
      const noKey = await start({ https_port: String(await freePort()), server_name: 'tls.example' });
      assert.match(noKey, /keys\/tls\.example\.key does not exist/);

      await cli(workDir, ['cert', 'server', '--name', 'tls.example', '--force']);
      await rm(join(workDir, 'keys', 'ca.crt'));
      const noCa = await start({ https_port: String(await freePort()), server_name: 'tls.example', client_validation: 'true' });
      assert.match(noCa, /client_validation is set, but \S*keys\/ca\.crt does not exist/);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});

describe('scrapydd cert (CLI)', () => {
  it('has help for each command, refuses to overwrite, explains bad input and prints the agent settings', async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'scrapydd-cert-cli-'));
    try {
      await writeConfig(workDir, 'sqlite:///unused.db', await freePort(), { server_name: 'conf.example' });
      for (const sub of ['ca', 'server', 'client']) {
        const help = await runCli(workDir, ['cert', sub, '--help']);
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, new RegExp(`Usage: scrapydd cert ${sub} \\[options\\]`));
        assert.match(help.stdout, /--force/);
      }
      const noCa = await runCli(workDir, ['cert', 'client', '--node', 'nodes/5']);
      assert.deepEqual([noCa.code, noCa.stderr], [2, `scrapydd: ${join(workDir, 'keys', 'ca.crt')} does not exist: make the CA first with 'scrapydd cert ca'\n`]);
      await cli(workDir, ['cert', 'ca']);
      const again = await runCli(workDir, ['cert', 'ca']);
      assert.deepEqual([again.code, again.stderr], [2, `scrapydd: ${join(workDir, 'keys', 'ca.crt')} already exists (use --force to replace it)\n`]);
      // The default --name is server_name from the configuration.
      assert.match(await cli(workDir, ['cert', 'server']), /conf\.example\.crt\n {2}subject: CN=conf\.example\n/);
      const badNode = await runCli(workDir, ['cert', 'client', '--node', '5']);
      assert.deepEqual([badNode.code, badNode.stderr], [2, "scrapydd: '5' is not a node name: expected nodes/<numeric id>\n"]);
      const noNode = await runCli(workDir, ['cert', 'client']);
      assert.notEqual(noNode.code, 0);
      assert.match(noNode.stderr, /required option '--node <name>' not specified/);
      const out = await cli(workDir, ['cert', 'client', '--node', 'nodes/5', '--out', 'agent']);
      const agent = join(workDir, 'agent');
      assert.ok(
        out.endsWith(`[agent]\nca_file = ${join(agent, 'ca.crt')}\ncert_file = ${join(agent, 'node-5.crt')}\nkey_file = ${join(agent, 'node-5.key')}\n`),
        out,
      );
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });
});

for (const kind of testDatabaseKinds()) {
  describe(`HTTPS port without client validation (${kind})`, () => {
    let keys: Keys;
    let db: TestDatabase;
    let env: { server: TestServer; httpsPort: number; workDir: string };
    let port: number;

    before(async () => {
      keys = await makeKeys();
      db = await createTestDatabase(kind);
      env = await startTlsServer(db, keys, {});
      port = env.httpsPort;
    });
    after(async () => {
      await env?.server.stop();
      await rm(env?.workDir ?? '/nonexistent', { recursive: true, force: true });
      await db?.drop();
      await rm(keys?.dir ?? '/nonexistent', { recursive: true, force: true });
    });

    it('serves curl over HTTP/1.1 (curl offers h2 as well): /healthz and an authenticated /listprojects.json', async () => {
      const health = await curl(['--cacert', keys.caFile, `https://localhost:${port}/healthz`]);
      assert.deepEqual([health.exitCode, health.status, health.version], [0, 200, '1.1'], health.stderr);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
      const anonymous = await curl(['--cacert', keys.caFile, `https://localhost:${port}/listprojects.json`]);
      assert.equal(anonymous.status, 401, anonymous.stderr);
      const listed = await curl(['--cacert', keys.caFile, '-u', 'admin:admin-password-1', `https://127.0.0.1:${port}/listprojects.json`]);
      assert.equal(listed.status, 200, listed.stderr);
      assert.deepEqual((JSON.parse(listed.body) as { status: string; projects: string[] }).projects, []);
      assert.equal((JSON.parse(listed.body) as { status: string }).status, 'ok');
    });

    it('serves Node https with and without ALPN, and refuses a client offering neither h2 nor http/1.1', async () => {
      const plain = await httpsGet(port, '/healthz', { ca: keys.ca });
      assert.deepEqual([plain.status, JSON.parse(plain.body), plain.alpn], [200, { status: 'ok' }, false]);
      const browserLike = await httpsGet(port, '/listprojects.json', { ca: keys.ca, ALPNProtocols: ['h2', 'http/1.1'], headers: { authorization: ADMIN } });
      assert.equal(browserLike.alpn, 'http/1.1');
      assert.equal(browserLike.status, 200, browserLike.body);
      assert.match(await refusal(port, { ca: keys.ca, ALPNProtocols: ['spdy/3'] }), /^EPROTO .*alert no application protocol/);
      // And a client that does not trust our CA refuses the server.
      assert.match(await refusal(port, {}), /^UNABLE_TO_VERIFY_LEAF_SIGNATURE /);
    });

    it('serves fetch (undici) with the CA from NODE_EXTRA_CA_CERTS', async () => {
      const script = `const r = await fetch('https://localhost:${port}/listprojects.json', { headers: { authorization: ${JSON.stringify(ADMIN)} } });
        console.log(r.status, await r.text());`;
      const res = await execa(process.execPath, ['--input-type=module', '-e', script], {
        env: { NODE_EXTRA_CA_CERTS: keys.caFile },
        timeout: DEADLINE_MS,
        reject: false,
      });
      assert.equal(res.exitCode, 0, res.stderr);
      assert.match(res.stdout, /^200 \{.*"status": ?"ok"/);
    });

    it('serves grpc-js over TLS (ALPN h2): ListProjects with Basic metadata; none is UNAUTHENTICATED', async () => {
      const client = projects(port, grpc.credentials.createSsl(keys.ca));
      try {
        assert.deepEqual(await listProjects(client, auth(ADMIN)), { projects: [], nextPageToken: '' });
        const err = await grpcError(listProjects(client, auth()));
        assert.equal(err.code, grpc.status.UNAUTHENTICATED, err.details);
      } finally {
        closeAll(client);
      }
    });

    it('does not ask for client certificates: one offered anyway is no credential', async () => {
      const client = projects(port, grpc.credentials.createSsl(keys.ca, keys.node.key, keys.node.cert));
      try {
        await insertNode(db, NODE_ID); // so a certificate taken into account would be PERMISSION_DENIED, not UNAUTHENTICATED
        const err = await grpcError(listProjects(client, auth()));
        assert.equal(err.code, grpc.status.UNAUTHENTICATED, err.details);
      } finally {
        closeAll(client);
      }
    });

    it('serves server reflection over TLS behind the same authentication', async () => {
      const reflection = new GrpcReflection(`localhost:${port}`, grpc.credentials.createSsl(keys.ca));
      try {
        const services = await reflection.listServices('*', auth(ADMIN));
        assert.ok(services.includes('scrapydd.v1.ProjectService'), services.join(', '));
        await assert.rejects(reflection.listServices('*', auth()), /16 UNAUTHENTICATED/);
      } finally {
        (reflection as unknown as { client: grpc.Client }).client.close();
      }
    });
  });

  describe(`HTTPS port with client_validation = true (${kind})`, () => {
    let keys: Keys;
    let db: TestDatabase;
    let env: { server: TestServer; httpsPort: number; workDir: string };
    let port: number;
    const withCert = (pair: { cert: Buffer; key: Buffer }) => grpc.credentials.createSsl(keys.ca, pair.key, pair.cert);

    before(async () => {
      keys = await makeKeys();
      db = await createTestDatabase(kind);
      env = await startTlsServer(db, keys, { client_validation: 'true' });
      port = env.httpsPort;
      await insertNode(db, NODE_ID);
    });
    after(async () => {
      await env?.server.stop();
      await rm(env?.workDir ?? '/nonexistent', { recursive: true, force: true });
      await db?.drop();
      await rm(keys?.dir ?? '/nonexistent', { recursive: true, force: true });
    });

    it('refuses a client without a certificate at the handshake (curl, Node https, grpc-js)', async () => {
      const c = await curl(['--cacert', keys.caFile, `https://localhost:${port}/healthz`]);
      assert.notEqual(c.exitCode, 0);
      assert.equal(c.status, 0, c.body);
      assert.equal(await handshake(port, { ca: keys.ca }), 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      assert.match(await refusal(port, { ca: keys.ca }), /^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET) /);
      const client = projects(port, grpc.credentials.createSsl(keys.ca));
      try {
        const err = await grpcError(listProjects(client, auth(ADMIN)));
        assert.equal(err.code, grpc.status.UNAVAILABLE, err.details);
      } finally {
        closeAll(client);
      }
    });

    it('refuses a client certificate from another CA', async () => {
      const c = await curl(['--cacert', keys.caFile, '--cert', keys.foreign.certFile, '--key', keys.foreign.keyFile, `https://localhost:${port}/healthz`]);
      assert.notEqual(c.exitCode, 0);
      assert.equal(c.status, 0, c.body);
      // Node's TLS server closes the connection (no alert) when the certificate does not verify.
      assert.equal(await handshake(port, { ca: keys.ca, cert: keys.foreign.cert, key: keys.foreign.key }), 'closed');
      assert.match(await refusal(port, { ca: keys.ca, cert: keys.foreign.cert, key: keys.foreign.key }), /^ECONNRESET /);
      // The same handshake with our CA's certificate is accepted.
      assert.equal(await handshake(port, { ca: keys.ca, cert: keys.node.cert, key: keys.node.key }, 500), 'accepted');
      const client = projects(port, withCert(keys.foreign));
      try {
        const err = await grpcError(listProjects(client, auth(ADMIN)));
        assert.equal(err.code, grpc.status.UNAVAILABLE, err.details);
      } finally {
        closeAll(client);
      }
    });

    it("authenticates an agent by its certificate alone: agent methods pass, others are PERMISSION_DENIED", async () => {
      const client = projects(port, withCert(keys.node));
      try {
        const denied = await grpcError(listProjects(client, auth()));
        assert.equal(denied.code, grpc.status.PERMISSION_DENIED, denied.details);
        assert.equal(statusDetails(denied).errorInfo?.reason, 'PERMISSION_DENIED');

        const session = await streamStatus(client, '/scrapydd.v1.NodeSessionService/StreamNodeSession', true);
        const egg = await streamStatus(client, '/scrapydd.v1.NodeSessionService/FetchEgg', false);
        for (const [name, status] of [['StreamNodeSession', session], ['FetchEgg', egg]] as const) {
          assert.ok(
            status.code !== grpc.status.UNAUTHENTICATED && status.code !== grpc.status.PERMISSION_DENIED,
            `${name}: ${grpc.status[status.code]} ${status.details}`,
          );
        }
        // Header credentials win over the certificate: the admin's Basic lists projects on the same connection.
        assert.deepEqual(await listProjects(client, auth(ADMIN)), { projects: [], nextPageToken: '' });
      } finally {
        closeAll(client);
      }
    });

    it('answers UNAUTHENTICATED (UNKNOWN_NODE) to a valid certificate of a node that does not exist', async () => {
      const client = projects(port, withCert(keys.missingNode));
      try {
        const err = await grpcError(listProjects(client, auth()));
        assert.equal(err.code, grpc.status.UNAUTHENTICATED, err.details);
        assert.equal(statusDetails(err).errorInfo?.reason, 'UNKNOWN_NODE');
        const session = await streamStatus(client, '/scrapydd.v1.NodeSessionService/StreamNodeSession', true);
        assert.equal(session.code, grpc.status.UNAUTHENTICATED, session.details);
      } finally {
        closeAll(client);
      }
    });

    it('serves curl with a client certificate over HTTP/1.1', async () => {
      const certArgs = ['--cacert', keys.caFile, '--cert', keys.node.certFile, '--key', keys.node.keyFile];
      const health = await curl([...certArgs, `https://localhost:${port}/healthz`]);
      assert.deepEqual([health.exitCode, health.status, health.version], [0, 200, '1.1'], health.stderr);
      const listed = await curl([...certArgs, '-u', 'admin:admin-password-1', `https://localhost:${port}/listprojects.json`]);
      assert.equal(listed.status, 200, listed.stderr);
      assert.equal((JSON.parse(listed.body) as { status: string }).status, 'ok');
    });

    it('serves reflection to an mTLS client with credentials', async () => {
      const reflection = new GrpcReflection(`localhost:${port}`, withCert(keys.node));
      try {
        const services = await reflection.listServices('*', auth(ADMIN));
        assert.ok(services.includes('scrapydd.v1.NodeSessionService'), services.join(', '));
      } finally {
        (reflection as unknown as { client: grpc.Client }).client.close();
      }
    });
  });
}
