/** src/tls/certificates.ts: CA, server and client certificates made with openssl, checked with Node's X509Certificate. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlreadyExists, FailedPrecondition, InvalidArgument } from '../../src/errors/domain-error.js';
import { createCa, createClientCert, createServerCert, parseAltName, parseNodeName } from '../../src/tls/certificates.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const x509 = async (file: string) => new X509Certificate(await readFile(file));
const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe('scrapydd cert: certificates', () => {
  let dir: string;
  let keysDir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scrapydd-certs-'));
    keysDir = join(dir, 'keys');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses server and client certificates before the CA exists', async () => {
    await assert.rejects(createServerCert({ keysDir, name: 'localhost' }), (err: Error) => {
      assert.ok(err instanceof FailedPrecondition);
      assert.match(err.message, /keys\/ca\.crt does not exist: make the CA first with 'scrapydd cert ca'/);
      return true;
    });
    await assert.rejects(createClientCert({ keysDir, node: 'nodes/1' }), FailedPrecondition);
  });

  it('makes a self-signed CA, its key readable only by its owner', async () => {
    const files = await createCa({ keysDir });
    const ca = await x509(files.certFile);
    assert.equal(ca.ca, true);
    assert.equal(ca.subject, 'CN=scrapydd CA');
    assert.equal(ca.checkIssued(ca), true);
    assert.equal(await mode(files.keyFile), 0o600);
    assert.equal(await mode(files.certFile), 0o644);
    assert.equal(await mode(keysDir), 0o700);
    assert.ok(new Date(ca.validTo).getTime() > Date.now() + 9 * 365 * 86_400_000);
  });

  it('makes a server certificate signed by the CA, for the name, localhost and loopback plus --alt', async () => {
    const files = await createServerCert({ keysDir, name: 'scrapydd.example.com', alt: ['DNS:other.example', 'ip:10.1.2.3'] });
    assert.deepEqual(files, { certFile: join(keysDir, 'scrapydd.example.com.crt'), keyFile: join(keysDir, 'scrapydd.example.com.key') });
    const [cert, ca] = [await x509(files.certFile), await x509(join(keysDir, 'ca.crt'))];
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.ca, false);
    assert.equal(cert.subject, 'CN=scrapydd.example.com');
    assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
    for (const host of ['scrapydd.example.com', 'localhost', 'other.example']) assert.equal(cert.checkHost(host), host);
    for (const ip of ['127.0.0.1', '::1', '10.1.2.3']) assert.equal(cert.checkIP(ip), ip);
    assert.equal(cert.checkHost('elsewhere.example'), undefined);
    assert.equal(await mode(files.keyFile), 0o600);
  });

  it('puts an IP server name into the subjectAltName as an IP', async () => {
    const files = await createServerCert({ keysDir, name: '192.0.2.7' });
    assert.equal((await x509(files.certFile)).checkIP('192.0.2.7'), '192.0.2.7');
  });

  it("makes an agent's client certificate: CN nodes/<id>, clientAuth, with a copy of the CA beside it", async () => {
    const outDir = join(dir, 'agent');
    const files = await createClientCert({ keysDir, node: 'nodes/7212345678901234567', outDir });
    assert.deepEqual(files, {
      certFile: join(outDir, 'node-7212345678901234567.crt'),
      keyFile: join(outDir, 'node-7212345678901234567.key'),
      caFile: join(outDir, 'ca.crt'),
    });
    const cert = await x509(files.certFile);
    assert.equal(cert.subject, 'CN=nodes/7212345678901234567');
    assert.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
    assert.equal(cert.checkIssued(await x509(join(keysDir, 'ca.crt'))), true);
    assert.deepEqual(await readFile(files.caFile!), await readFile(join(keysDir, 'ca.crt')));
    assert.equal(await mode(files.keyFile), 0o600);
    // In the keys directory itself, no CA copy.
    assert.equal((await createClientCert({ keysDir, node: 'nodes/5' })).caFile, undefined);
  });

  it('refuses to overwrite unless forced', async () => {
    const before = await readFile(join(keysDir, 'ca.key'));
    await assert.rejects(createCa({ keysDir }), (err: Error) => err instanceof AlreadyExists && /ca\.crt already exists \(use --force/.test(err.message));
    await assert.rejects(createServerCert({ keysDir, name: 'scrapydd.example.com' }), AlreadyExists);
    await assert.rejects(createClientCert({ keysDir, node: 'nodes/5' }), AlreadyExists);
    assert.deepEqual(await readFile(join(keysDir, 'ca.key')), before);
    const old = (await x509(join(keysDir, 'scrapydd.example.com.crt'))).fingerprint256;
    await createServerCert({ keysDir, name: 'scrapydd.example.com', force: true });
    assert.notEqual((await x509(join(keysDir, 'scrapydd.example.com.crt'))).fingerprint256, old);
  });

  it("refuses to replace another CA's certificate in an agent's directory", async () => {
    const outDir = join(dir, 'agent-2');
    await createClientCert({ keysDir, node: 'nodes/6', outDir });
    await writeFile(join(outDir, 'ca.crt'), 'another CA');
    await assert.rejects(createClientCert({ keysDir, node: 'nodes/7', outDir }), /ca\.crt exists and is another CA's certificate/);
    await createClientCert({ keysDir, node: 'nodes/7', outDir, force: true });
    assert.deepEqual(await readFile(join(outDir, 'ca.crt')), await readFile(join(keysDir, 'ca.crt')));
  });

  it('refuses bad names, alt names and validity periods before running openssl', async () => {
    for (const node of ['node/1', 'nodes/0', 'nodes/01', 'nodes/abc', 'nodes/9223372036854775808', 'nodes/1/x']) {
      assert.throws(() => parseNodeName(node), InvalidArgument, node);
    }
    assert.equal(parseNodeName('nodes/9223372036854775807'), '9223372036854775807');
    for (const alt of ['URI:x', 'DNS:', 'DNS:a b', 'DNS:a,b', 'IP:999.1.1.1', 'IP:example.com', 'DNS:x\nCN=evil']) {
      assert.throws(() => parseAltName(alt), InvalidArgument, alt);
    }
    assert.equal(parseAltName(' dns:a.example '), 'DNS:a.example');
    assert.equal(parseAltName('IP:::1'), 'IP:::1');
    for (const name of ['', 'a b', 'x\n[ext]', 'a$b', '../x']) {
      await assert.rejects(createServerCert({ keysDir, name, force: true }), InvalidArgument, JSON.stringify(name));
    }
    await assert.rejects(createServerCert({ keysDir, name: 'ok.example', days: 0 }), /--days 0/);
  });

  it('says so when the openssl binary is missing', async () => {
    await assert.rejects(
      createCa({ keysDir: join(dir, 'no-openssl'), openssl: join(dir, 'no-such-openssl') }),
      (err: Error) => err instanceof FailedPrecondition && /openssl binary was not found/.test(err.message),
    );
  });
});
