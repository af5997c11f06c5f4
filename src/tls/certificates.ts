/** Makes the mTLS certificates (CA, server, agent client) with Debian's `openssl` binary; keys are written 0600. */
import { X509Certificate } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { AlreadyExists, FailedPrecondition, InvalidArgument } from '../errors/domain-error.js';
import { nodeIdOfName } from './client-certificate.js';
import { CA_DAYS, LEAF_DAYS } from './validity.js';

export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** For a client certificate written outside the keys directory: the CA certificate copied beside it. */
  readonly caFile?: string;
}

export interface CommonOptions {
  /** The keys directory (the server's `keys/`); created 0700 when missing. */
  readonly keysDir: string;
  readonly days?: number;
  /** Overwrite existing files. */
  readonly force?: boolean;
  /** The openssl binary; default `openssl` on PATH. */
  readonly openssl?: string;
}


const HOST = /^(?=.{1,253}$)[A-Za-z0-9*](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$/;

/** `keys/ca.crt` and `keys/ca.key`: a self-signed CA for server and agent certificates. */
export async function createCa(opts: CommonOptions & { commonName?: string }): Promise<CertFiles> {
  const commonName = opts.commonName ?? 'scrapydd CA';
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(commonName)) throw new InvalidArgument(`bad CA common name '${commonName}'`);
  const files = { certFile: join(opts.keysDir, 'ca.crt'), keyFile: join(opts.keysDir, 'ca.key') };
  await issue(opts, files, commonName, [
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
  ], opts.days ?? CA_DAYS, undefined);
  return files;
}

/** `keys/<name>.crt|.key` signed by the CA; the subjectAltName has the name, localhost, 127.0.0.1 and ::1, plus `alt`. */
export async function createServerCert(opts: CommonOptions & { name: string; alt?: readonly string[] }): Promise<CertFiles> {
  const name = checkHost(opts.name, 'server name');
  const sans = new Set([hostEntry(name), 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1', ...(opts.alt ?? []).map(parseAltName)]);
  const files = { certFile: join(opts.keysDir, `${name}.crt`), keyFile: join(opts.keysDir, `${name}.key`) };
  await issue(opts, files, name, [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid,issuer',
    `subjectAltName = ${[...sans].join(',')}`,
  ], opts.days ?? LEAF_DAYS, await caOf(opts.keysDir));
  return files;
}

/** An agent's client certificate, CN = `nodes/<id>`, written to `outDir` (default the keys directory) as node-<id>.crt|.key. */
export async function createClientCert(opts: CommonOptions & { node: string; outDir?: string }): Promise<CertFiles> {
  const nodeId = parseNodeName(opts.node);
  const ca = await caOf(opts.keysDir);
  const outDir = opts.outDir ?? opts.keysDir;
  const files = { certFile: join(outDir, `node-${nodeId}.crt`), keyFile: join(outDir, `node-${nodeId}.key`) };
  const caCopy = resolve(outDir) === resolve(opts.keysDir) ? undefined : join(outDir, 'ca.crt');
  if (caCopy !== undefined && !opts.force && (await exists(caCopy))) {
    const [a, b] = await Promise.all([readFile(caCopy), readFile(ca.certFile)]);
    if (!a.equals(b)) throw new AlreadyExists(`${caCopy} exists and is another CA's certificate (use --force to replace it)`);
  }
  await issue(opts, files, `nodes/${nodeId}`, [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = clientAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid,issuer',
  ], opts.days ?? LEAF_DAYS, ca, outDir);
  if (caCopy === undefined) return files;
  await copyFile(ca.certFile, caCopy);
  await chmod(caCopy, 0o644);
  return { ...files, caFile: caCopy };
}

/** `nodes/<id>` → `<id>` (a positive int64); anything else is INVALID_ARGUMENT. */
export function parseNodeName(node: string): string {
  const id = nodeIdOfName(node);
  if (id === undefined) throw new InvalidArgument(`'${node}' is not a node name: expected nodes/<numeric id>`);
  return id;
}

/** `DNS:name` or `IP:address` for the subjectAltName extension. */
export function parseAltName(entry: string): string {
  const m = /^(DNS|IP):(.+)$/i.exec(entry.trim());
  if (!m) throw new InvalidArgument(`'${entry}' is not a subjectAltName entry: expected DNS:<host> or IP:<address>`);
  const [kind, value] = [m[1]!.toUpperCase(), m[2]!];
  if (kind === 'IP' && isIP(value) === 0) throw new InvalidArgument(`'${value}' is not an IP address`);
  if (kind === 'DNS') checkHost(value, 'DNS name');
  return `${kind}:${value}`;
}

/** One line per certificate: subject, issuer, SANs, expiry and SHA-256 fingerprint. */
export async function describeCertificate(file: string): Promise<string> {
  const cert = new X509Certificate(await readFile(file));
  const lines = [`${file}`, `  subject: ${cert.subject.replace(/\n/g, ', ')}`, `  issuer:  ${cert.issuer.replace(/\n/g, ', ')}`];
  if (cert.subjectAltName) lines.push(`  names:   ${cert.subjectAltName}`);
  lines.push(`  expires: ${new Date(cert.validTo).toISOString()}`, `  sha256:  ${cert.fingerprint256}`);
  return lines.join('\n');
}

function checkHost(value: string, what: string): string {
  if (isIP(value) !== 0 || HOST.test(value)) return value;
  throw new InvalidArgument(`'${value}' is not a valid ${what}`);
}

function hostEntry(host: string): string {
  return isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`;
}

interface Ca {
  readonly certFile: string;
  readonly keyFile: string;
}

async function caOf(keysDir: string): Promise<Ca> {
  const ca = { certFile: join(keysDir, 'ca.crt'), keyFile: join(keysDir, 'ca.key') };
  for (const file of [ca.certFile, ca.keyFile]) {
    if (!(await exists(file))) throw new FailedPrecondition(`${file} does not exist: make the CA first with 'scrapydd cert ca'`);
  }
  return ca;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err)),
  );
}

/**
 * Makes a key pair and a certificate (self-signed when `ca` is undefined) in a
 * private temporary directory inside `dir`, then renames both into place.
 */
async function issue(
  opts: CommonOptions,
  files: CertFiles,
  commonName: string,
  extensions: readonly string[],
  days: number,
  ca: Ca | undefined,
  dir: string = opts.keysDir,
): Promise<void> {
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new InvalidArgument(`--days ${days}: expected 1 to 36500`);
  if (!opts.force) {
    for (const file of [files.certFile, files.keyFile]) {
      if (await exists(file)) throw new AlreadyExists(`${file} already exists (use --force to replace it)`);
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(join(dir, '.cert-'));
  try {
    const config = join(tmp, 'openssl.cnf');
    await writeFile(config, opensslConfig(commonName, extensions), { mode: 0o600 });
    const [key, crt] = [join(tmp, 'key.pem'), join(tmp, 'crt.pem')];
    const args = ['req', '-x509', '-new', '-config', config, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
    args.push('-noenc', '-keyout', key, '-out', crt, '-days', String(days), '-sha256');
    if (ca) args.push('-CA', ca.certFile, '-CAkey', ca.keyFile);
    const res = await execa(opts.openssl ?? 'openssl', args, { reject: false, env: { OPENSSL_CONF: config }, stdin: 'ignore' });
    if (res.failed) {
      const why = res.code === 'ENOENT' ? 'the openssl binary was not found (install openssl)' : String(res.stderr).trim();
      throw new FailedPrecondition(`openssl could not make ${files.certFile}: ${why}`);
    }
    await chmod(key, 0o600);
    await chmod(crt, 0o644);
    await rename(key, files.keyFile);
    await rename(crt, files.certFile);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function opensslConfig(commonName: string, extensions: readonly string[]): string {
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    'x509_extensions = ext',
    '[dn]',
    `CN = ${commonName}`,
    '[ext]',
    ...extensions,
    '',
  ].join('\n');
}
