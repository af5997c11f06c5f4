/**
 * The real agent for tests: `node dist/src/cli/main.js agent --config <file>`
 * as a child process with its own [agent] config and data dir, its JSON log
 * lines parsed for waiting on events, `agent -g` registration with the key
 * and secret on standard input, and a stop that ends exactly that process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TEST_PYTHON } from './eggs.js';
import { CLI } from './server-process.js';

export type LogEntry = Record<string, any>;

export interface AgentOptions {
  /** host:port of each server, in failover order. */
  servers: string[];
  /** Reuse a work dir (config, data, node file), e.g. to restart the same agent. */
  workDir?: string;
  /** Extra [agent] keys. */
  settings?: Record<string, string>;
}

export interface TestAgent {
  readonly workDir: string;
  readonly dataDir: string;
  readonly nodeFile: string;
  readonly process: ChildProcess;
  /** Parsed JSON log lines (non-JSON lines as {msg: line}). */
  readonly logs: LogEntry[];
  /** The first log entry (already logged or future) that matches, or an error after `timeoutMs`. */
  waitForLog(match: (e: LogEntry) => boolean, timeoutMs?: number, what?: string): Promise<LogEntry>;
  /** SIGTERM, then SIGKILL after 40 s; resolves with the exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export async function agentWorkDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'scrapydd-agent-'));
}

export async function writeAgentConfig(workDir: string, opts: AgentOptions): Promise<string> {
  const lines = [
    '[agent]',
    `server = ${opts.servers.join(', ')}`,
    `data_dir = ${join(workDir, 'data')}`,
    `runner_python = ${TEST_PYTHON}`,
    'log_format = json',
    'debug = true',
    ...Object.entries(opts.settings ?? {}).map(([k, v]) => `${k} = ${v}`),
  ];
  const file = join(workDir, 'agent.conf');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** `scrapydd agent -g` with `stdin` (e.g. "key\nsecret\n") and extra arguments. */
export async function registerAgent(opts: AgentOptions & { workDir: string }, stdin: string, args: string[] = []) {
  const config = await writeAgentConfig(opts.workDir, opts);
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--config', config, 'agent', '-g', ...args], {
      cwd: opts.workDir,
      env: { ...process.env, HOME: opts.workDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

export async function startTestAgent(opts: AgentOptions): Promise<TestAgent> {
  const workDir = opts.workDir ?? (await agentWorkDir());
  const config = await writeAgentConfig(workDir, opts);
  const child = spawn(process.execPath, [CLI, '--config', config, 'agent'], {
    cwd: workDir,
    env: { ...process.env, HOME: workDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => {
    process.off('exit', killOnExit);
    res(code);
  }));
  const logs: LogEntry[] = [];
  const waiters = new Set<(e: LogEntry) => void>();
  child.stdout!.resume();
  createInterface({ input: child.stderr! }).on('line', (line) => {
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      entry = { msg: line };
    }
    logs.push(entry);
    if (process.env.SCRAPYDD_TEST_AGENT_LOGS) process.stderr.write(`[agent] ${line}\n`);
    for (const w of waiters) w(entry);
  });

  return {
    workDir,
    dataDir: join(workDir, 'data'),
    nodeFile: join(workDir, 'data', 'node.json'),
    process: child,
    logs,
    exited,
    waitForLog(match, timeoutMs = 60_000, what = 'a log entry') {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`agent: no ${what} within ${timeoutMs} ms; last lines:\n${logs.slice(-30).map((e) => JSON.stringify(e)).join('\n')}`));
        }, timeoutMs);
        const check = (e: LogEntry) => {
          if (!match(e)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(e);
        };
        waiters.add(check);
        void exited.then((code) => {
          if (!waiters.has(check)) return;
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`agent exited (code ${code}) before ${what}; last lines:\n${logs.slice(-30).map((e) => JSON.stringify(e)).join('\n')}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

export async function removeAgentDir(agent: { workDir: string }): Promise<void> {
  await rm(agent.workDir, { recursive: true, force: true });
}
