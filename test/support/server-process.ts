/**
 * Runs the real server binary (node dist/src/cli/main.js server) for a test,
 * on a free port with its own config file, data dir and database, and stops
 * exactly the process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * A port free now, below the kernel's ephemeral range (32768 and up), so
 * that a port a test binds again later (a server restarted on its port) is
 * not handed out meanwhile as the local port of some outgoing connection.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => res(bound));
    });
  });
}

export interface ServerOptions {
  databaseUrl: string;
  /** Extra [server] keys. */
  settings?: Record<string, string>;
  /** Reuse a work dir (config, data) e.g. for a second server. */
  workDir?: string;
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
}

export interface TestServer {
  readonly port: number;
  readonly baseUrl: string;
  readonly address: string;
  readonly workDir: string;
  readonly process: ChildProcess;
  /** Lines the server logged (stderr), for assertions. */
  readonly logs: string[];
  /** Runs a `scrapydd` CLI command with this server's config. */
  cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function writeConfig(workDir: string, databaseUrl: string, port: number, settings: Record<string, string> = {}) {
  const lines = [
    '[server]',
    'bind_address = 127.0.0.1',
    `bind_port = ${port}`,
    `database_url = ${databaseUrl}`,
    `data_dir = ${join(workDir, 'data')}`,
    'log_format = json',
    ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
  ];
  const file = join(workDir, 'scrapydd.conf');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

export function runCli(workDir: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, '--config', join(workDir, 'scrapydd.conf'), ...args], {
      cwd: workDir,
      env: { ...process.env, HOME: workDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

export async function startTestServer(opts: ServerOptions): Promise<TestServer> {
  const workDir = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'scrapydd-srv-')));
  const ownsDir = opts.workDir === undefined;
  const port = await freePort();
  await writeConfig(workDir, opts.databaseUrl, port, opts.settings);
  // SCRAPYDD_SERVER_NODE_ARGS: extra node flags for the server, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' when profiling a benchmark.
  const nodeArgs = (process.env.SCRAPYDD_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, '--config', join(workDir, 'scrapydd.conf'), 'server'], {
    cwd: workDir,
    env: { ...process.env, HOME: workDir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let exited = false;
  // A test process that dies early must not leave its server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const exit = new Promise<void>((res) => child.once('exit', () => ((exited = true), res())));
  child.stdout!.resume();
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start in 30 s:\n${logs.join('\n')}`)), 30_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      logs.push(line);
      if (line.includes('scrapydd server listening')) {
        clearTimeout(timer);
        res();
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      rej(new Error(`server exited (code ${child.exitCode}) before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    workDir,
    process: child,
    logs,
    cli: (args, stdin) => runCli(workDir, args, stdin),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      if (ownsDir) await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Basic auth header value. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
