/** `scrapydd cert ca|server|client`: the certificates for HTTPS and mTLS between agents and servers. */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load.js';
import type { CertFiles } from '../tls/certificates.js';
import { CA_DAYS, LEAF_DAYS } from '../tls/validity.js';

/** The certificate functions, loaded on use (they pull in execa): the other commands start faster. */
const certificates = () => import('../tls/certificates.js');

interface CommonFlags {
  keysDir: string;
  days: number;
  force?: boolean;
}

function days(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 36500) throw new InvalidArgumentError('expected a number of days from 1 to 36500');
  return n;
}

function withCommon(cmd: Command, defaultDays: number): Command {
  return cmd
    .option('--keys-dir <dir>', "the server's keys directory (the server reads keys/ in its working directory)", 'keys')
    .option('--days <n>', 'validity in days', days, defaultDays)
    .option('--force', 'replace existing files');
}

async function report(files: CertFiles): Promise<void> {
  const { describeCertificate } = await certificates();
  process.stdout.write(`${await describeCertificate(files.certFile)}\n  key:     ${files.keyFile} (mode 0600)\n`);
}

export function registerCertCommand(program: Command): void {
  const cert = program
    .command('cert')
    .description('make TLS certificates: a CA, the server certificate for https_port, and agent client certificates for mTLS')
    .addHelpText(
      'after',
      '\nTypical setup, in the server\'s working directory:\n' +
        '  scrapydd cert ca\n' +
        '  scrapydd cert server --name scrapydd.example.com\n' +
        '  scrapydd cert client --node nodes/1234 --out agent-1234\n' +
        'then set https_port (and client_validation = true) in [server].',
    );

  withCommon(
    cert.command('ca').description('make the certificate authority: keys/ca.crt and keys/ca.key (keep ca.key secret)'),
    CA_DAYS,
  ).action(async (flags: CommonFlags) => {
    const { createCa } = await certificates();
    await report(await createCa({ keysDir: resolve(flags.keysDir), days: flags.days, force: flags.force === true }));
  });

  withCommon(
    cert
      .command('server')
      .description('make the server certificate keys/<name>.crt and .key, signed by the CA, for https_port')
      .option('--name <host>', 'the server name, as clients connect to it (default: server_name from the configuration)')
      .option(
        '--alt <names>',
        'more subjectAltName entries, comma-separated: DNS:host,IP:address (the name, localhost, 127.0.0.1 and ::1 are always in)',
      ),
    LEAF_DAYS,
  ).action(async (flags: CommonFlags & { name?: string; alt?: string }) => {
    const name = flags.name ?? loadConfig({ configFile: program.opts<{ config?: string }>().config }).server.serverName;
    const { createServerCert } = await certificates();
    const alt = (flags.alt ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    await report(await createServerCert({ keysDir: resolve(flags.keysDir), name, alt, days: flags.days, force: flags.force === true }));
  });

  withCommon(
    cert
      .command('client')
      .description("make an agent's client certificate (CN = the node's name, extendedKeyUsage clientAuth), signed by the CA")
      .requiredOption('--node <name>', 'the node the agent runs as: nodes/<id>')
      .option('--out <dir>', 'where to write node-<id>.crt and .key (and a copy of ca.crt); default the keys directory'),
    LEAF_DAYS,
  ).action(async (flags: CommonFlags & { node: string; out?: string }) => {
    const { createClientCert } = await certificates();
    const files = await createClientCert({
      keysDir: resolve(flags.keysDir),
      node: flags.node,
      days: flags.days,
      force: flags.force === true,
      ...(flags.out === undefined ? {} : { outDir: resolve(flags.out) }),
    });
    await report(files);
    process.stdout.write(
      `\nFor the agent's scrapydd.conf:\n[agent]\n` +
        `ca_file = ${files.caFile ?? resolve(flags.keysDir, 'ca.crt')}\ncert_file = ${files.certFile}\nkey_file = ${files.keyFile}\n`,
    );
  });
}
