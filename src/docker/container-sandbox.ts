/**
 * Container sandbox: the create request for every container scrapydd starts (crawls,
 * requirement installs, spider listings), with its security defaults in one place. Spider
 * code is third-party code; it gets the runner image, the mounts it needs, and nothing else.
 */
import type { BindMount, ContainerCreateBody } from './docker-types.js';

/** Label keys on scrapydd's containers: who made them and for what (leftovers are found by them). */
export const LABELS = {
  /** Which agent (host and data_dir) or server made it. */
  owner: 'io.scrapydd.owner',
  /** job, setup or list. */
  role: 'io.scrapydd.role',
  /** projects/{p}/spiders/{s}/jobs/{j} */
  job: 'io.scrapydd.job',
  /** nodes/{id}, or "temporary". */
  node: 'io.scrapydd.node',
} as const;

/** Processes (threads included) a container may have: enough for Scrapy and helpers, not for a fork bomb. */
export const PIDS_LIMIT = 1024;

export interface SandboxOptions {
  image: string;
  /** argv; run with the image's entrypoint replaced, so any Python image will do. */
  command: string[];
  /** The whole environment we add (the image's own ENV stays); never the caller's. */
  env: Record<string, string>;
  workingDir?: string;
  mounts: BindMount[];
  labels: Record<string, string>;
  /** Keep stdin open for an attached client, closed when it goes (the runner's EOF watch). */
  stdin: boolean;
  /** Absent: the daemon's default network. */
  network?: string;
}

export function sandboxedContainer(o: SandboxOptions): ContainerCreateBody {
  const [entrypoint, ...args] = o.command;
  return {
    Image: o.image,
    Entrypoint: [entrypoint!],
    Cmd: args,
    Env: Object.entries(o.env).map(([name, value]) => `${name}=${value}`),
    WorkingDir: o.workingDir,
    // The caller's own user: files it writes in the mounted directories belong to the agent
    // (or server), as with the venv runner; root only if the caller is root.
    User: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
    Labels: o.labels,
    AttachStdin: o.stdin,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: o.stdin,
    StdinOnce: o.stdin,
    Tty: false,
    HostConfig: {
      Mounts: o.mounts,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      // The only writable places: /tmp (memory, gone with the container) and the mounts.
      Tmpfs: { '/tmp': 'rw,nosuid,nodev' },
      PidsLimit: PIDS_LIMIT,
      ...(o.network ? { NetworkMode: o.network } : {}),
      // We read the output from the attach stream; a log driver would keep a second copy of
      // every log line and item in the daemon's storage.
      LogConfig: { Type: 'none' },
    },
  };
}

export function readOnly(source: string, target: string): BindMount {
  return { Type: 'bind', Source: source, Target: target, ReadOnly: true };
}

export function writable(source: string, target: string): BindMount {
  return { Type: 'bind', Source: source, Target: target, ReadOnly: false };
}
