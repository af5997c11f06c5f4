/**
 * src/server/tls-listener.ts in process: ALPN routing to the web handler or a
 * grpc-js connection injector, the client certificate as grpc-js's
 * getAuthContext() shows it, start-up errors and closing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { ConfigError } from '../../src/config/config-error.js';
import { chooseProtocol, readTlsMaterial, startTlsListener, type TlsListener } from '../../src/server/tls-listener.js';
import { createCa, createClientCert, createServerCert } from '../../src/tls/certificates.js';
import { toClientCertificate } from '../../src/tls/client-certificate.js';

const DEADLINE_MS = 10_000;
const logger = pino({ level: 'silent' });
const raw = (b: Buffer) => b;
/** A one-method service answering with the client certificate grpc-js reports for the call. */
const WHO = {
  who: { path: '/test.Who/Who', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
} as const;

describe('ALPN choice', () => {
  it('gives http/1.1 to anyone offering it, h2 to h2-only clients, nothing otherwise', () => {
    assert.equal(chooseProtocol(['h2', 'http/1.1']), 'http/1.1');
    assert.equal(chooseProtocol(['http/1.1']), 'http/1.1');
    assert.equal(chooseProtocol(['h2']), 'h2');
    assert.equal(chooseProtocol(['spdy/3', 'h2']), 'h2');
    assert.equal(chooseProtocol(['spdy/3']), undefined);
    assert.equal(chooseProtocol([]), undefined);
  });
});

describe('TLS listener', () => {
  let dir: string;
  let keysDir: string;
  let ca: Buffer;
  let client: { cert: Buffer; key: Buffer };
  let web: http.Server;
  let grpcServer: grpc.Server;
  const listeners: TlsListener[] = [];

  const start = async (clientValidation: boolean) => {
    const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const material = readTlsMaterial(keysDir, 'localhost', clientValidation);
    const listener = await startTlsListener({ host: '127.0.0.1', port: 0, material, grpc: injector, web, logger });
    listeners.push(listener);
    return listener;
  };

  /** What the gRPC server saw: the client certificate's CN, or null. */
  const who = (port: number, creds: grpc.ChannelCredentials) =>
    new Promise<unknown>((resolve, reject) => {
      const c = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.use_local_subchannel_pool': 1 });
      c.makeUnaryRequest(WHO.who.path, raw, raw, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, res) => {
        c.close();
        if (err) reject(err);
        else resolve(JSON.parse(res!.toString()));
      });
    });

  const get = (port: number, opts: https.RequestOptions & { ALPNProtocols?: string[] }) =>
    new Promise<{ body: string; alpn: string | false }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', servername: 'localhost', port, path: '/', agent: false, ca, timeout: DEADLINE_MS, ...opts }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ body, alpn: (res.socket as tls.TLSSocket).alpnProtocol ?? false }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scrapydd-tls-unit-'));
    keysDir = join(dir, 'keys');
    await createCa({ keysDir });
    await createServerCert({ keysDir, name: 'localhost' });
    const files = await createClientCert({ keysDir, node: 'nodes/42' });
    ca = await readFile(join(keysDir, 'ca.crt'));
    client = { cert: await readFile(files.certFile), key: await readFile(files.keyFile) };
    web = http.createServer((req, res) => {
      const cert = (req.socket as tls.TLSSocket).getPeerCertificate?.();
      res.end(`web ${req.url} ${cert?.subject?.CN ?? '-'}`);
    });
    grpcServer = new grpc.Server();
    grpcServer.addService(WHO as unknown as grpc.ServiceDefinition, {
      who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(JSON.stringify(toClientCertificate(call.getAuthContext().sslPeerCertificate)?.commonName ?? null))),
    });
  });
  after(async () => {
    await Promise.all(listeners.map((l) => l.close(100)));
    web.closeAllConnections();
    grpcServer.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends http/1.1 and ALPN-less clients to the web handler and h2-only clients to grpc-js', async () => {
    const { port } = await start(false);
    assert.deepEqual(await get(port, { ALPNProtocols: ['h2', 'http/1.1'] }), { body: 'web / -', alpn: 'http/1.1' });
    assert.deepEqual(await get(port, {}), { body: 'web / -', alpn: false });
    assert.equal(await who(port, grpc.credentials.createSsl(ca)), null);
    // Without client_validation the server does not ask, so a client certificate is never seen.
    assert.equal(await who(port, grpc.credentials.createSsl(ca, client.key, client.cert)), null);
  });

  it('with client validation, shows the verified client certificate to grpc-js (getAuthContext) and to the web handler', async () => {
    const { port } = await start(true);
    assert.equal(await who(port, grpc.credentials.createSsl(ca, client.key, client.cert)), 'nodes/42');
    assert.deepEqual(await get(port, { cert: client.cert, key: client.key }), { body: 'web / nodes/42', alpn: false });
    await assert.rejects(who(port, grpc.credentials.createSsl(ca)), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });

  it('closes: no new connections, and lingering ones are destroyed after the grace period', async () => {
    const listener = await start(false);
    const socket = tls.connect({ host: '127.0.0.1', port: listener.port, servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    await listener.close(200);
    await closed;
    assert.ok(Date.now() - started >= 150, 'closed before the grace period');
    await assert.rejects(get(listener.port, {}), /ECONNREFUSED/);
  });

  it('names the missing file in a ConfigError', () => {
    assert.throws(
      () => readTlsMaterial(keysDir, 'nowhere.example', false),
      (err: Error) => err instanceof ConfigError && err.key === 'https_port' && err.message.includes(join(keysDir, 'nowhere.example.crt')),
    );
    assert.throws(
      () => readTlsMaterial(join(dir, 'empty'), 'localhost', true),
      (err: Error) => err instanceof ConfigError && /localhost\.crt does not exist/.test(err.message),
    );
    const material = readTlsMaterial(keysDir, 'localhost', true);
    assert.deepEqual(material.ca, ca);
    assert.equal(readTlsMaterial(keysDir, 'localhost', false).ca, undefined);
  });
});
