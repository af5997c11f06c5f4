// Configuration: defaults, lookup order, environment, flags, validation messages, database URLs, sizes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { describeDatabaseUrl, parseDatabaseUrl } from '../../src/config/database-url.js';
import { ConfigError, loadConfig, type LoadConfigOptions } from '../../src/config/load.js';
import { AGENT_KEYS, SERVER_KEYS } from '../../src/config/schema.js';
import { parseBool, parseDurationSeconds, parseSizeBytes } from '../../src/config/values.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh etc/, cwd/ and home/ under a temp dir, and a loader bound to them. */
function sandbox() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scrapydd-config-'));
  roots.push(root);
  const etc = path.join(root, 'etc');
  const cwd = path.join(root, 'cwd');
  const home = path.join(root, 'home');
  for (const dir of [etc, cwd, home]) fs.mkdirSync(dir);
  const write = (file: string, text: string): string => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  const files = {
    etc: path.join(etc, 'scrapydd', 'scrapydd.conf'),
    confD: path.join(etc, 'scrapyd', 'conf.d'),
    local: path.join(cwd, 'scrapydd.conf'),
    home: path.join(home, '.scrapydd.conf'),
  };
  const warnings: string[] = [];
  const load = (opts: Partial<LoadConfigOptions> = {}) =>
    loadConfig({ etcDir: etc, cwd, home, env: {}, warn: (m) => warnings.push(m), stderrIsTTY: false, ...opts });
  return { root, etc, cwd, home, files, write, load, warnings };
}

/** Runs fn, asserts it throws a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('defaults', () => {
  test('server defaults equal the original documentation', () => {
    const s = sandbox().load().server;
    assert.equal(s.bindAddress, '0.0.0.0');
    assert.equal(s.bindPort, 6800);
    assert.equal(s.clientValidation, false);
    assert.equal(s.databaseUrl, 'sqlite:///database.db');
    assert.equal(s.debug, false);
    assert.equal(s.enableAuthentication, true);
    assert.equal(s.httpsPort, undefined);
    assert.equal(s.runnerType, 'venv');
    assert.equal(s.runnerDockerImage, 'kevenli/scrpaydd');
    assert.equal(s.serverName, 'localhost');
  });

  test('new server keys have their documented defaults', () => {
    const { cwd, load } = sandbox();
    const s = load().server;
    assert.deepEqual(s.database, { kind: 'sqlite', path: path.join(cwd, 'database.db') });
    assert.equal(s.dataDir, path.join(cwd, 'data'));
    assert.equal(s.runnerPython, '/usr/bin/python3');
    assert.equal(s.maxUploadSizeBytes, 100 * 1024 * 1024);
    assert.equal(s.spiderListTimeoutSeconds, 60);
    assert.equal(s.nodeName, os.hostname());
    assert.equal(s.timezone, 'UTC');
    assert.equal(s.heartbeatIntervalSeconds, 3);
    assert.equal(s.nodeTimeoutSeconds, 15);
    assert.equal(s.nodeKeyTtlSeconds, 600);
    assert.equal(s.cancelGraceSeconds, 30);
    assert.equal(s.misfireGraceSeconds, 60);
  });

  test('agent defaults equal the original documentation plus new keys', () => {
    const { cwd, load } = sandbox();
    const a = load().agent;
    assert.equal(a.debug, false);
    assert.deepEqual(a.servers, [{ host: 'localhost', port: 6800 }]);
    assert.equal(a.serverPort, 6800);
    assert.equal(a.slots, 1);
    assert.equal(a.requestTimeoutSeconds, 60);
    assert.deepEqual(a.tags, []);
    assert.equal(a.runnerType, 'venv');
    assert.equal(a.runnerPython, '/usr/bin/python3');
    assert.equal(a.runnerDockerImage, 'kevenli/scrpaydd');
    assert.equal(a.dataDir, path.join(cwd, 'data'));
    assert.equal(a.caFile, undefined);
    assert.equal(a.nodeFile, path.join(cwd, 'data', 'node.json'));
  });

  test('schema marks the original keys as seed and the rest as new', () => {
    const seed = (keys: Record<string, { origin: string }>) =>
      Object.keys(keys).filter((k) => keys[k]?.origin === 'seed').sort();
    assert.deepEqual(seed(SERVER_KEYS), [
      'bind_address', 'bind_port', 'client_validation', 'database_url', 'debug',
      'enable_authentication', 'https_port', 'job_fail_mail_receiver', 'job_fail_send_mail', 'runner_docker_image', 'runner_type', 'server_name',
      'smtp_from', 'smtp_passwd', 'smtp_port', 'smtp_server', 'smtp_user',
    ]);
    assert.deepEqual(seed(AGENT_KEYS), [
      'debug', 'request_timeout', 'runner_docker_image', 'runner_type', 'server', 'server_port', 'slots',
    ]);
  });

  test('the config is frozen, nested arrays too', () => {
    const config = sandbox().load();
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server) && Object.isFrozen(config.agent.tags));
    assert.throws(() => {
      (config.server as { bindPort: number }).bindPort = 1;
    }, TypeError);
  });
});

describe('lookup order', () => {
  test('each later file overrides the earlier ones; untouched keys survive', () => {
    const sb = sandbox();
    sb.write(sb.files.etc, '[server]\nbind_port = 7000\nserver_name = etc\ndebug = true\n');
    assert.equal(sb.load().server.bindPort, 7000);
    sb.write(path.join(sb.files.confD, 'a.conf'), '[server]\nbind_port = 7001\n');
    assert.equal(sb.load().server.bindPort, 7001);
    sb.write(sb.files.local, '[server]\nbind_port = 7002\n');
    assert.equal(sb.load().server.bindPort, 7002);
    sb.write(sb.files.home, '[server]\nbind_port = 7003\n');
    const config = sb.load();
    assert.equal(config.server.bindPort, 7003);
    assert.equal(config.server.serverName, 'etc');
    assert.equal(config.server.debug, true);
    assert.deepEqual(config.sources, [sb.files.etc, path.join(sb.files.confD, 'a.conf'), sb.files.local, sb.files.home]);
  });

  test('conf.d files apply in sorted name order, skipping directories and dotfiles', () => {
    const sb = sandbox();
    const b = sb.write(path.join(sb.files.confD, '10-b.conf'), '[agent]\nslots = 10\n');
    const a = sb.write(path.join(sb.files.confD, '02-a.conf'), '[agent]\nslots = 2\ntags = from-a\n');
    sb.write(path.join(sb.files.confD, '.99-hidden'), '[agent]\nslots = 99\n');
    fs.mkdirSync(path.join(sb.files.confD, '50-dir'));
    const config = sb.load();
    assert.equal(config.agent.slots, 10);
    assert.deepEqual(config.agent.tags, ['from-a']);
    assert.deepEqual(config.sources, [a, b]);
  });

  test('an empty value puts a key back to its default', () => {
    const sb = sandbox();
    sb.write(sb.files.etc, '[server]\nhttps_port = 8443\nbind_port = 7000\n');
    sb.write(sb.files.home, '[server]\nhttps_port =\nbind_port =\n');
    const s = sb.load().server;
    assert.equal(s.httpsPort, undefined);
    assert.equal(s.bindPort, 6800);
  });

  test('ConfigParser-style `key: value` lines and upper-case keys are read', () => {
    const sb = sandbox();
    sb.write(sb.files.local, '[agent]\nserver: a.example:7000\nSLOTS : 3\n');
    const a = sb.load().agent;
    assert.deepEqual(a.servers, [{ host: 'a.example', port: 7000 }]);
    assert.equal(a.slots, 3);
  });
});

describe('environment and flags', () => {
  test('SCRAPYDD_SERVER overrides the agent server from a file', () => {
    const sb = sandbox();
    sb.write(sb.files.local, '[agent]\nserver = from-file\nserver_port = 7000\n');
    const config = sb.load({ env: { SCRAPYDD_SERVER: 'xxx' } });
    assert.deepEqual(config.agent.servers, [{ host: 'xxx', port: 7000 }]);
    assert.equal(config.server.serverName, 'localhost');
  });

  test('a variable applies to every section that has the key; empty ones are ignored', () => {
    const sb = sandbox();
    sb.write(sb.files.local, '[server]\nbind_port = 7000\n');
    const config = sb.load({ env: { SCRAPYDD_DEBUG: 'yes', SCRAPYDD_BIND_PORT: '' } });
    assert.equal(config.server.debug, true);
    assert.equal(config.agent.debug, true);
    assert.equal(config.server.bindPort, 7000);
  });

  test('agent server takes a list of host[:port], server_port filling the gaps', () => {
    const config = sandbox().load({
      env: { SCRAPYDD_SERVER: 'a, b:7001, [::1]:7002, fe80::1', SCRAPYDD_SERVER_PORT: '7000' },
    });
    assert.deepEqual(config.agent.servers, [
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
      { host: '::1', port: 7002 },
      { host: 'fe80::1', port: 7000 },
    ]);
  });

  test('--config overrides looked-up files; env overrides --config; flags override env', () => {
    const sb = sandbox();
    sb.write(sb.files.home, '[server]\nbind_port = 7003\nserver_name = home\nbind_address = 127.0.0.1\n');
    const extra = sb.write(path.join(sb.root, 'extra.conf'), '[server]\nbind_port = 7100\nserver_name = extra\n');
    const config = sb.load({
      configFile: '../extra.conf', // relative to cwd
      env: { SCRAPYDD_SERVER_NAME: 'env', SCRAPYDD_BIND_PORT: '7150' },
      flags: { server: { 'bind-port': '7200' }, agent: { slotsCount: undefined } },
    });
    assert.equal(config.server.bindPort, 7200);
    assert.equal(config.server.serverName, 'env');
    assert.equal(config.server.bindAddress, '127.0.0.1');
    assert.deepEqual(config.sources, [sb.files.home, extra]);
  });

  test('flags accept snake_case, kebab-case and camelCase keys; unknown flags throw', () => {
    const sb = sandbox();
    const a = sb.load({ flags: { agent: { slots: '4', 'request-timeout': '5', dataDir: 'd' } } }).agent;
    assert.equal(a.slots, 4);
    assert.equal(a.requestTimeoutSeconds, 5);
    assert.equal(a.dataDir, path.join(sb.cwd, 'd'));
    const err = configError(() => sb.load({ flags: { agent: { bogus: 'x' } } }));
    assert.equal(err.key, 'bogus');
  });

  test('a missing --config file is an error naming it', () => {
    const sb = sandbox();
    const err = configError(() => sb.load({ configFile: 'nope.conf' }));
    assert.equal(err.key, 'config');
    assert.equal(err.message, `--config ${path.join(sb.cwd, 'nope.conf')}: no such file`);
  });
});

describe('validation', () => {
  test('unknown keys and sections warn and do not fail', () => {
    const sb = sandbox();
    sb.write(sb.files.etc, 'stray = 1\n[server]\nfoo = 1\nbind_port = 7000\n[web]\nx = 1\n');
    const config = sb.load();
    assert.equal(config.server.bindPort, 7000);
    assert.deepEqual(sb.warnings, [
      `unknown key 'stray' outside any section in ${sb.files.etc}`,
      `unknown key 'foo' in [server] of ${sb.files.etc}`,
      `unknown section [web] in ${sb.files.etc}`,
    ]);
  });

  test('a bad port names the key, the value and the file', () => {
    const sb = sandbox();
    sb.write(sb.files.etc, '[server]\nbind_port = abc\n');
    const err = configError(() => sb.load());
    assert.equal(err.message, `bind_port in ${sb.files.etc}: 'abc' is not a port number (1-65535)`);
    assert.equal(err.key, 'bind_port');
    assert.equal(err.source, sb.files.etc);
    sb.write(sb.files.etc, '[agent]\nserver_port = 70000\n');
    assert.match(configError(() => sb.load()).message, /^server_port in .*: '70000' is not a port number/);
  });

  test('a bad bool from the environment names the variable', () => {
    const err = configError(() => sandbox().load({ env: { SCRAPYDD_ENABLE_AUTHENTICATION: 'maybe' } }));
    assert.equal(
      err.message,
      "enable_authentication in environment variable SCRAPYDD_ENABLE_AUTHENTICATION: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)",
    );
    assert.equal(err.source, 'environment variable SCRAPYDD_ENABLE_AUTHENTICATION');
  });

  test('a bad size, time zone, slot count or enum names key and file', () => {
    const sb = sandbox();
    const cases: [string, RegExp][] = [
      ['[server]\nmax_upload_size = 10 parsecs\n', /^max_upload_size in .*: '10 parsecs' is not a size/],
      ['[server]\ntimezone = Mars/Olympus\n', /^timezone in .*: 'Mars\/Olympus' is not an IANA time zone/],
      ['[agent]\nslots = 0\n', /^slots in .*: '0' is less than 1$/],
      ['[server]\nbind_port = 0\n', /^bind_port in .*: '0' is not a port number \(1-65535\)$/],
      ['[agent]\nrequest_timeout = 0\n', /^request_timeout in .*: '0' must be more than 0 seconds$/],
      ['[agent]\nrunner_type = chroot\n', /^runner_type in .*: 'chroot' is not one of venv, docker$/],
      ['[agent]\nserver = http://x\n', /^server in .*: 'http:\/\/x' is not host\[:port\] \(leave out the scheme\)$/],
      ['[agent]\nserver = a b\n', /^server in .*: 'a b' is not host\[:port\]$/],
      ['[server]\nheartbeat_interval = 20\n', /^node_timeout in default: 15 seconds must be more than heartbeat_interval/],
    ];
    for (const [text, pattern] of cases) {
      sb.write(sb.files.local, text);
      const err = configError(() => sb.load());
      assert.match(err.message, pattern);
      if (!err.message.startsWith('node_timeout')) assert.ok(err.message.includes(sb.files.local), err.message);
    }
  });

  test('grace periods may be zero', () => {
    const s = sandbox().load({ env: { SCRAPYDD_CANCEL_GRACE: '0', SCRAPYDD_MISFIRE_GRACE: '0s' } }).server;
    assert.equal(s.cancelGraceSeconds, 0);
    assert.equal(s.misfireGraceSeconds, 0);
  });

  test('time zones are checked with Intl and canonicalized', () => {
    assert.equal(sandbox().load({ env: { SCRAPYDD_TIMEZONE: 'europe/paris' } }).server.timezone, 'Europe/Paris');
  });

  test('log_format auto follows whether stderr is a terminal', () => {
    const sb = sandbox();
    assert.equal(sb.load({ stderrIsTTY: true }).server.logFormat, 'pretty');
    assert.equal(sb.load({ stderrIsTTY: false }).agent.logFormat, 'json');
    assert.equal(sb.load({ stderrIsTTY: true, env: { SCRAPYDD_LOG_FORMAT: 'JSON' } }).server.logFormat, 'json');
  });

  test('paths resolve against cwd and ~; node_file follows data_dir', () => {
    const sb = sandbox();
    sb.write(sb.files.local, '[agent]\ndata_dir = ~/agent\nca_file = certs/ca.pem\n');
    const a = sb.load().agent;
    assert.equal(a.dataDir, path.join(sb.home, 'agent'));
    assert.equal(a.nodeFile, path.join(sb.home, 'agent', 'node.json'));
    assert.equal(a.caFile, path.join(sb.cwd, 'certs', 'ca.pem'));
  });
});

describe('docker runner keys', () => {
  test('docker_host defaults to the Docker socket; runner_docker_network to the daemon\'s default', () => {
    const { server, agent } = sandbox().load();
    assert.equal(server.dockerHost, 'unix:///var/run/docker.sock');
    assert.equal(agent.dockerHost, 'unix:///var/run/docker.sock');
    assert.equal(agent.runnerDockerNetwork, undefined);
  });

  test('DOCKER_HOST is honoured when docker_host is not set anywhere, and loses to every scrapydd source', () => {
    const sb = sandbox();
    const env = { DOCKER_HOST: 'unix:///run/podman/podman.sock' };
    assert.equal(sb.load({ env }).agent.dockerHost, 'unix:///run/podman/podman.sock');
    assert.equal(sb.load({ env }).server.dockerHost, 'unix:///run/podman/podman.sock');
    assert.equal(sb.load({ env: { ...env, SCRAPYDD_DOCKER_HOST: '/srv/docker.sock' } }).agent.dockerHost, '/srv/docker.sock');
    sb.write(sb.files.local, '[agent]\ndocker_host = unix:///var/run/docker.sock\nrunner_docker_network = host\n');
    const agent = sb.load({ env }).agent;
    assert.equal(agent.dockerHost, 'unix:///var/run/docker.sock');
    assert.equal(agent.runnerDockerNetwork, 'host');
    assert.equal(sb.load({ env }).server.dockerHost, 'unix:///run/podman/podman.sock', 'the file set only [agent]');
  });

  test('only unix sockets: a tcp host is refused, naming where it came from', () => {
    const sb = sandbox();
    assert.match(
      configError(() => sb.load({ env: { DOCKER_HOST: 'tcp://10.0.0.1:2375' } })).message,
      /^docker_host in environment variable DOCKER_HOST: 'tcp:\/\/10\.0\.0\.1:2375' is not a unix socket/,
    );
    sb.write(sb.files.local, '[agent]\ndocker_host = ssh://host\n');
    const err = configError(() => sb.load());
    assert.equal(err.key, 'docker_host');
    assert.match(err.message, /^docker_host in .*scrapydd\.conf: 'ssh:\/\/host' is not a unix socket/);
  });
});

describe('database_url', () => {
  test('sqlite forms: relative, absolute, memory', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:///database.db', { cwd: '/srv' }), { kind: 'sqlite', path: '/srv/database.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:////var/lib/s.db', { cwd: '/srv' }), { kind: 'sqlite', path: '/var/lib/s.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:///:memory:'), { kind: 'sqlite', path: ':memory:' });
  });

  test('postgres forms, driver suffix dropped', () => {
    const url = 'postgresql://u:p@db:5432/scrapydd?sslmode=require';
    assert.deepEqual(parseDatabaseUrl(url), { kind: 'postgres', url });
    assert.deepEqual(parseDatabaseUrl('postgres://db/x'), { kind: 'postgres', url: 'postgresql://db/x' });
    assert.deepEqual(parseDatabaseUrl('postgresql+psycopg2://db/x'), { kind: 'postgres', url: 'postgresql://db/x' });
  });

  test('anything else is a ConfigError naming database_url, password masked', () => {
    const err = configError(() => parseDatabaseUrl('mysql://root:hunter2@db/x', { source: '/etc/x.conf' }));
    assert.equal(err.key, 'database_url');
    assert.match(err.message, /^database_url in \/etc\/x\.conf: 'mysql:\/\/root:\*\*\*@db\/x' uses an unsupported database 'mysql'/);
    assert.ok(!err.message.includes('hunter2'));
    for (const bad of ['database.db', 'sqlite:///', 'sqlite://host/x.db']) {
      assert.equal(configError(() => parseDatabaseUrl(bad)).key, 'database_url', bad);
    }
  });

  test('loadConfig parses database_url relative to cwd and reports its source', () => {
    const sb = sandbox();
    assert.deepEqual(sb.load({ env: { SCRAPYDD_DATABASE_URL: 'sqlite:///db/s.db' } }).server.database, {
      kind: 'sqlite',
      path: path.join(sb.cwd, 'db', 's.db'),
    });
    const err = configError(() => sb.load({ env: { SCRAPYDD_DATABASE_URL: 'oracle://x' } }));
    assert.equal(err.source, 'environment variable SCRAPYDD_DATABASE_URL');
  });

  test('describeDatabaseUrl masks passwords in user info and query', () => {
    assert.equal(describeDatabaseUrl('postgresql://u:s3cr@t@h:5432/db'), 'postgresql://u:***@h:5432/db');
    assert.equal(describeDatabaseUrl('postgresql://h/db?user=u&password=x&sslmode=require'),
      'postgresql://h/db?user=u&password=***&sslmode=require');
    assert.equal(describeDatabaseUrl({ kind: 'sqlite', path: '/abs/s.db' }), 'sqlite:////abs/s.db');
    assert.equal(describeDatabaseUrl('postgresql://u@h/db'), 'postgresql://u@h/db');
  });
});

describe('value syntaxes', () => {
  test('sizes: plain bytes, decimal and binary units', () => {
    assert.equal(parseSizeBytes('1048576'), 1048576);
    assert.equal(parseSizeBytes('100MiB'), 104857600);
    assert.equal(parseSizeBytes('10MB'), 10_000_000);
    assert.equal(parseSizeBytes('512KiB'), 524288);
    assert.equal(parseSizeBytes('1.5 gib'), 1610612736);
    for (const bad of ['', '10 M', '-1', '1e6', '0']) assert.throws(() => parseSizeBytes(bad), bad);
  });

  test('loadConfig reads max_upload_size with units', () => {
    const sb = sandbox();
    sb.write(sb.files.local, '[server]\nmax_upload_size = 512KiB\n');
    assert.equal(sb.load().server.maxUploadSizeBytes, 524288);
  });

  test('booleans: true/false, yes/no, on/off, 1/0 in any case', () => {
    for (const t of ['true', 'TRUE', 'Yes', 'on', '1']) assert.equal(parseBool(t), true, t);
    for (const f of ['false', 'False', 'NO', 'off', '0']) assert.equal(parseBool(f), false, f);
    assert.throws(() => parseBool('t'));
  });

  test('durations: seconds, or with s/m/h; zero only where allowed', () => {
    assert.equal(parseDurationSeconds('90'), 90);
    assert.equal(parseDurationSeconds('1.5'), 1.5);
    assert.equal(parseDurationSeconds('5m'), 300);
    assert.equal(parseDurationSeconds('1h'), 3600);
    assert.throws(() => parseDurationSeconds('0'));
    assert.equal(parseDurationSeconds('0', true), 0);
    assert.throws(() => parseDurationSeconds('soon'));
  });
});
