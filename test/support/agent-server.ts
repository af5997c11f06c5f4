/**
 * A real server for the agent tests that can be restarted on the same port
 * (an agent keeps its configured address across the restart), on a work
 * dir and database the test owns.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TEST_PYTHON } from './eggs.js';
import { CLI, runCli, writeConfig, type TestServer } from './server-process.js';

export interface FixedServerOptions {
  port: number;
  workDir: string;
  databaseUrl: string;
  settings?: Record<string, string>;
}

/**
 * Starts `scrapydd server` on `opts.port`; stop() leaves the work dir and
 * database for a restart. A port taken for a moment (by a connection of
 * another test) is tried again for up to 15 s.
 */
export async function startServerAt(opts: FixedServerOptions): Promise<TestServer> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await startServerAtOnce(opts);
    } catch (err) {
      if (!String((err as Error).message).includes('EADDRINUSE') || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function startServerAtOnce(opts: FixedServerOptions): Promise<TestServer> {
  await writeConfig(opts.workDir, opts.databaseUrl, opts.port, { runner_python: TEST_PYTHON, ...opts.settings });
  const child = spawn(process.execPath, [CLI, '--config', join(opts.workDir, 'scrapydd.conf'), 'server'], {
    cwd: opts.workDir,
    env: { ...process.env, HOME: opts.workDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let exited = false;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exit = new Promise<void>((res) =>
    child.once('exit', () => {
      exited = true;
      process.off('exit', killOnExit);
      res();
    }),
  );
  child.stdout!.resume();
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start in 30 s:\n${logs.join('\n')}`)), 30_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      logs.push(line);
      if (process.env.SCRAPYDD_TEST_SERVER_LOGS) process.stderr.write(`[server] ${line}\n`);
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
    port: opts.port,
    baseUrl: `http://127.0.0.1:${opts.port}`,
    address: `127.0.0.1:${opts.port}`,
    workDir: opts.workDir,
    process: child,
    logs,
    cli: (args, stdin) => runCli(opts.workDir, args, stdin),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
