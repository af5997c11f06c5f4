/**
 * A Docker Engine API for the docker runner's tests: the real `podman system service` on a
 * socket in a temporary directory, with a containers.conf of its own (see below), the image
 * scripts/setup-podman.sh built, and a stop that ends exactly the process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DockerClient } from '../../src/docker/docker-client.js';

/** Built by scripts/setup-podman.sh (keep the two in step). */
export const TEST_RUNNER_IMAGE = process.env.SCRAPYDD_TEST_RUNNER_IMAGE ?? 'localhost/scrapydd-runner:test-1';

export interface PodmanService {
  /** A docker_host value: unix:///.../podman.sock */
  readonly host: string;
  readonly client: DockerClient;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Hard limit of a resource of this process, from /proc/self/limits ("Max open files", "Max processes"). */
function hardLimit(name: string): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const value = line?.slice(name.length).trim().split(/\s+/)[1];
  return value === undefined || value === 'unlimited' ? Infinity : Number(value);
}

/**
 * Without CAP_SYS_RESOURCE (as on the test machines) runc cannot raise a limit above its own
 * hard one, and podman asks by default for 1048576 open files and processes: container
 * starts fail with "error setting rlimits". So the service gets default ulimits it can
 * grant: this process's (which it inherits), processes capped at the 32768 podman lowers
 * its own to. runc is named because crun, when present, fails the same way here.
 */
function containersConf(): string {
  const files = Math.min(hardLimit('Max open files'), 1048576);
  const processes = Math.min(hardLimit('Max processes'), 32768);
  return [
    '[containers]',
    `default_ulimits = ["nofile=${files}:${files}", "nproc=${processes}:${processes}"]`,
    '[engine]',
    'runtime = "runc"',
    '',
  ].join('\n');
}

export async function startPodmanService(): Promise<PodmanService> {
  const dir = await mkdtemp(join(tmpdir(), 'scrapydd-podman-'));
  const conf = join(dir, 'containers.conf');
  await writeFile(conf, containersConf());
  const socket = join(dir, 'podman.sock');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    env: { ...process.env, CONTAINERS_CONF: conf },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => {}); // reported by the start deadline below
  const host = `unix://${socket}`;
  const client = new DockerClient(host);

  const stop = async () => {
    client.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.ping();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`podman system service did not answer on ${socket}: ${(err as Error).message}\n${stderr}`);
      }
      await delay(50); // the socket appears when the service is ready
    }
  }
  return { host, client, process: child, stop };
}

/** Removes every container carrying `labels` (whatever a failed test left behind). */
export async function removeContainers(client: DockerClient, labels: Record<string, string>): Promise<void> {
  for (const c of await client.listContainers(labels)) await client.removeContainer(c.Id);
}
