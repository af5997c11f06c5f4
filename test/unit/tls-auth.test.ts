/** Client-certificate authentication (a node's certificate, the header's precedence) and the agent's channel credentials. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import pino from 'pino';
import { ConfigError } from '../../src/config/config-error.js';
import type { Deps } from '../../src/domain/deps.js';
import { Code, DomainError } from '../../src/errors/domain-error.js';
import type { IncomingCall } from '../../src/server/call-context.js';
import { makeAuthenticator } from '../../src/server/auth/authenticator.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import { insertNode } from '../../src/storage/nodes-repo.js';
import { agentChannelCredentials } from '../../src/tls/agent-credentials.js';
import { authenticateClientCertificate } from '../../src/tls/certificate-auth.js';
import { createCa, createClientCert } from '../../src/tls/certificates.js';
import { nodeIdOfName, toClientCertificate } from '../../src/tls/client-certificate.js';

const NODE_ID = '7212345678901234567';

function call(commonName: string | undefined, extra: Partial<IncomingCall> = {}): IncomingCall {
  return {
    transport: 'grpc',
    method: 'scrapydd.v1.NodeSessionService/StreamNodeSession',
    authorization: undefined,
    peerAddress: '127.0.0.1',
    requestId: undefined,
    public: false,
    ...(commonName === undefined ? {} : { clientCertificate: { commonName, fingerprint256: 'AA:BB' } }),
    ...extra,
  };
}

async function domainError(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('client-certificate authentication', () => {
  let db: Db;
  let deps: Deps;

  before(async () => {
    db = await openDatabase({ kind: 'sqlite', path: ':memory:' });
    deps = { db, logger: pino({ level: 'silent' }) } as unknown as Deps;
    await insertNode(db, { id: NODE_ID, displayName: 'n', tags: [], secretHash: undefined, temporary: false, clientIp: '' });
  });
  after(() => db?.close());

  it('makes an existing node the principal', async () => {
    assert.deepEqual(await authenticateClientCertificate(deps, call(`nodes/${NODE_ID}`)), {
      userId: undefined,
      username: `nodes/${NODE_ID}`,
      admin: false,
      method: 'client-certificate',
      nodeId: NODE_ID,
    });
  });

  it('answers UNAUTHENTICATED (UNKNOWN_NODE) for a node that does not exist', async () => {
    const err = await domainError(authenticateClientCertificate(deps, call('nodes/123')));
    assert.equal(err.code, Code.UNAUTHENTICATED);
    assert.equal(err.reason, 'UNKNOWN_NODE');
    assert.match(err.message, /nodes\/123/);
  });

  it('ignores no certificate, a CN that is not a node name, and public calls', async () => {
    assert.equal(await authenticateClientCertificate(deps, call(undefined)), undefined);
    for (const cn of ['admin', `nodes/${NODE_ID}/x`, `Nodes/${NODE_ID}`, 'nodes/99999999999999999999']) {
      assert.equal(await authenticateClientCertificate(deps, call(cn)), undefined, cn);
    }
    assert.equal(await authenticateClientCertificate(deps, call(`nodes/${NODE_ID}`, { public: true })), undefined);
    assert.equal(await authenticateClientCertificate(deps, call('nodes/123', { public: true })), undefined);
  });

  it('lets Authorization credentials take precedence over the certificate in the authenticator', async () => {
    const authenticate = makeAuthenticator(deps);
    assert.equal((await authenticate(call(`nodes/${NODE_ID}`)))?.nodeId, NODE_ID);
    const header = `Basic ${Buffer.from('nobody:some-password').toString('base64')}`;
    // A bad header fails even with a good certificate: the certificate is not consulted.
    const err = await domainError(authenticate(call(`nodes/${NODE_ID}`, { authorization: header })));
    assert.equal(err.reason, 'BAD_CREDENTIALS');
  });
});

describe('client certificate fields', () => {
  it('takes the CN and fingerprint of a verified peer certificate, and nothing from an ambiguous one', () => {
    const peer = (CN: unknown) => ({ subject: { CN }, raw: Buffer.from('x'), fingerprint256: 'AB:CD' }) as unknown as PeerCertificate;
    assert.deepEqual(toClientCertificate(peer('nodes/1')), { commonName: 'nodes/1', fingerprint256: 'AB:CD' });
    assert.equal(toClientCertificate(peer(['nodes/1', 'nodes/2'])), undefined);
    assert.equal(toClientCertificate(peer('')), undefined);
    // What getPeerCertificate() gives when the client sent none.
    assert.equal(toClientCertificate({} as PeerCertificate), undefined);
    assert.equal(toClientCertificate(undefined), undefined);
  });

  it('reads node ids from node names only', () => {
    assert.equal(nodeIdOfName('nodes/42'), '42');
    assert.equal(nodeIdOfName('nodes/9223372036854775807'), '9223372036854775807');
    for (const name of ['nodes/0', 'nodes/042', 'nodes/9223372036854775808', 'node/42', 'nodes/', 'nodes/4 2']) {
      assert.equal(nodeIdOfName(name), undefined, name);
    }
  });
});

describe('agent channel credentials', () => {
  let dir: string;
  let files: { ca: string; cert: string; key: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scrapydd-agent-creds-'));
    await createCa({ keysDir: dir });
    const client = await createClientCert({ keysDir: dir, node: 'nodes/1' });
    files = { ca: join(dir, 'ca.crt'), cert: client.certFile, key: client.keyFile };
    assert.ok((await readFile(files.ca)).length > 0);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is plain without TLS keys, TLS with ca_file, mTLS with cert_file and key_file', () => {
    assert.equal(agentChannelCredentials({})._isSecure(), false);
    assert.equal(agentChannelCredentials({ caFile: files.ca })._isSecure(), true);
    assert.equal(agentChannelCredentials({ caFile: files.ca, certFile: files.cert, keyFile: files.key })._isSecure(), true);
    // System CAs for the server, our certificate for us.
    assert.equal(agentChannelCredentials({ certFile: files.cert, keyFile: files.key })._isSecure(), true);
  });

  it('refuses half a client certificate and unreadable files, naming the key', () => {
    assert.throws(() => agentChannelCredentials({ caFile: files.ca, certFile: files.cert }), (e: Error) => e instanceof ConfigError && e.key === 'key_file');
    assert.throws(() => agentChannelCredentials({ keyFile: files.key }), (e: Error) => e instanceof ConfigError && e.key === 'cert_file');
    assert.throws(
      () => agentChannelCredentials({ caFile: join(dir, 'missing.crt') }),
      (e: Error) => e instanceof ConfigError && e.key === 'ca_file' && e.message.includes('missing.crt'),
    );
    // A key that does not match its certificate is refused by grpc-js itself.
    assert.throws(() => agentChannelCredentials({ caFile: files.ca, certFile: files.cert, keyFile: files.ca }));
  });
});
