/**
 * One-shot containers (a requirement install, a spider listing): create, attach, start, wait
 * with a time limit, collect the output, and always remove the container afterwards.
 */
import type { Readable } from 'node:stream';
import type { DockerClient } from './docker-client.js';
import type { ContainerCreateBody } from './docker-types.js';

export interface RunContainerOptions {
  /** SIGKILL the container after this long (0: no limit). */
  timeoutMs: number;
  /** Called with both output streams before the container starts (e.g. to follow their lines). */
  follow?: (stdout: Readable, stderr: Readable) => void;
  /** Keep at most this much of stdout in the result (default 1 MiB). */
  maxStdoutChars?: number;
}

export interface ContainerRun {
  /** The container's exit status (128 + n when killed by signal n). */
  status: number;
  timedOut: boolean;
  stdout: string;
  /** The end of stderr, for diagnostics. */
  stderrTail: string;
}

const STDERR_TAIL_CHARS = 16 * 1024;
/** After the container stopped: how long its output may still take to arrive. */
const DRAIN_MS = 5000;

export async function runContainer(client: DockerClient, body: ContainerCreateBody, opts: RunContainerOptions): Promise<ContainerRun> {
  const id = await client.createContainer(body);
  try {
    const streams = await client.attach(id, { stdin: false });
    const maxStdout = opts.maxStdoutChars ?? 1024 * 1024;
    let stdout = '';
    let stderrTail = '';
    opts.follow?.(streams.stdout, streams.stderr);
    streams.stdout.on('data', (chunk: Buffer | string) => {
      if (stdout.length < maxStdout) stdout += chunk.toString();
    });
    streams.stderr.on('data', (chunk: Buffer | string) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    const drained = Promise.all([ended(streams.stdout), ended(streams.stderr)]);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await client.startContainer(id);
      if (opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          void client.killContainer(id, 'SIGKILL').catch(() => {}); // the removal below kills it anyway
        }, opts.timeoutMs);
      }
      const status = await client.waitContainer(id);
      await Promise.race([drained, new Promise((ok) => setTimeout(ok, DRAIN_MS).unref())]);
      return { status, timedOut, stdout, stderrTail };
    } finally {
      clearTimeout(timer);
      streams.close();
    }
  } finally {
    await client.removeContainer(id).catch(() => {}); // an agent's leftovers go at its next start; see LABELS
  }
}

function ended(stream: Readable): Promise<void> {
  return new Promise((ok) => {
    if (stream.readableEnded || stream.destroyed) return ok();
    stream.once('end', ok);
    stream.once('close', ok);
  });
}
