/**
 * Docker job: one crawl in one container. The runner script and the egg are mounted
 * read-only, the job's crawl/ directory is the crawl's cwd and HOME; the log comes from
 * stderr and the items from stdout of the attach stream, the stats from a file read after
 * exit; stdin stays attached so the runner stops the crawl when the agent goes away.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { AttachedStreams, DockerClient } from '../../../docker/docker-client.js';
import { LABELS, readOnly, sandboxedContainer, writable } from '../../../docker/container-sandbox.js';
import { signalOfStatus } from '../../../docker/exit-status.js';
import { crawlArguments } from '../crawl-command.js';
import { jobResult } from '../job-outcome.js';
import { ITEMS_FILE, LOG_FILE, type CrawlSpec, type JobEvents, type JobResult, type RunningJob, type StopSignal } from '../job-types.js';
import { LineJournal } from '../line-journal.js';
import { StopControl } from '../stop-control.js';
import { SITE_PACKAGES } from './container-requirements.js';

/** Subdirectory of the job directory that the container may write: log.txt, items.jl and state.json stay out of its reach. */
export const CRAWL_DIR = 'crawl';
const JOB_MOUNT = '/scrapydd/job';
const RUNNER_MOUNT = '/scrapydd/runner/scrapydd_runner.py';
const EGG_MOUNT = '/scrapydd/project.egg';
const STATS_FILE = '.scrapydd-stats.json';
const MAX_STATS_BYTES = 16 * 1024 * 1024;
/** After the container stopped: how long its output may still take to arrive. */
const DRAIN_MS = 5000;

export interface DockerJobOptions {
  client: DockerClient;
  /** The image's id, as prepared. */
  image: string;
  runnerScript: string;
  /** Installed requirements to mount on PYTHONPATH, if any. */
  sitePackages?: string;
  network?: string;
  /** Owner and node labels (see LABELS); the job's own is added. */
  labels: Record<string, string>;
  logger: Logger;
}

/** Starts the crawl's container; rejects if it cannot be created or started (the container is then removed). */
export async function startDockerJob(spec: CrawlSpec, events: JobEvents, o: DockerJobOptions): Promise<RunningJob> {
  const workDir = resolve(spec.workDir);
  const crawlDir = join(workDir, CRAWL_DIR);
  await mkdir(crawlDir, { recursive: true });
  const body = sandboxedContainer({
    image: o.image,
    command: [
      'python3',
      RUNNER_MOUNT,
      ...crawlArguments(spec, EGG_MOUNT),
      '--items-to-stdout',
      `--stats-file=${JOB_MOUNT}/${STATS_FILE}`,
    ],
    env: {
      HOME: JOB_MOUNT,
      LANG: 'C.UTF-8',
      TMPDIR: '/tmp',
      PYTHONIOENCODING: 'utf-8',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      ...(o.sitePackages ? { PYTHONPATH: SITE_PACKAGES } : {}),
      ...definedOnly(spec.env),
    },
    workingDir: JOB_MOUNT,
    mounts: [
      readOnly(o.runnerScript, RUNNER_MOUNT),
      readOnly(resolve(spec.eggPath), EGG_MOUNT),
      ...(o.sitePackages ? [readOnly(o.sitePackages, SITE_PACKAGES)] : []),
      writable(crawlDir, JOB_MOUNT),
    ],
    labels: { ...o.labels, [LABELS.role]: 'job', [LABELS.job]: spec.job },
    stdin: true,
    network: o.network,
  });

  const log = await LineJournal.create(join(workDir, LOG_FILE), (lines) => events.onLog(lines));
  const items = await LineJournal.create(join(workDir, ITEMS_FILE), (lines) => events.onItems(lines));
  let id: string | undefined;
  let streams: AttachedStreams | undefined;
  try {
    id = await o.client.createContainer(body);
    // Attached before it starts, so not a line is missed.
    streams = await o.client.attach(id, { stdin: true });
  } catch (err) {
    await Promise.allSettled([log.discard(), items.discard()]);
    if (id) await o.client.removeContainer(id).catch(() => {});
    throw new Error(`cannot start the crawl of ${spec.job} in ${o.image}: ${(err as Error).message}`, { cause: err });
  }
  streams.stdin.on('error', () => {}); // a reset connection just ends the outputs
  const outputs = Promise.allSettled([log.consume(streams.stderr), items.consume(streams.stdout)]);
  try {
    await o.client.startContainer(id);
  } catch (err) {
    streams.close();
    await outputs;
    await o.client.removeContainer(id).catch(() => {});
    throw new Error(`cannot start the crawl of ${spec.job} in ${o.image}: ${(err as Error).message}`, { cause: err });
  }
  const pid = await o.client.inspectContainer(id).then((c) => c.State.Pid, () => 0);
  return new DockerJob(spec, id, pid, streams, outputs, log, items, join(crawlDir, STATS_FILE), o);
}

class DockerJob implements RunningJob {
  readonly done: Promise<JobResult>;
  readonly #stop: StopControl;

  constructor(
    spec: CrawlSpec,
    private readonly id: string,
    readonly pid: number,
    streams: AttachedStreams,
    outputs: Promise<PromiseSettledResult<void>[]>,
    log: LineJournal,
    items: LineJournal,
    statsFile: string,
    private readonly o: DockerJobOptions,
  ) {
    this.#stop = new StopControl((signal) => this.#signal(signal), spec.timeoutSeconds, spec.cancelGraceSeconds);
    this.done = this.#finish(streams, outputs, log, items, statsFile);
  }

  cancel(signal?: StopSignal, graceSeconds?: number): void {
    this.#stop.cancel(signal, graceSeconds);
  }

  kill(): void {
    this.#stop.kill();
  }

  #signal(signal: StopSignal): void {
    this.o.client.killContainer(this.id, `SIG${signal}`).catch((err: unknown) =>
      this.o.logger.warn({ container: this.id, signal, err: (err as Error).message }, 'cannot signal a job container'),
    );
  }

  async #finish(
    streams: AttachedStreams,
    outputs: Promise<PromiseSettledResult<void>[]>,
    log: LineJournal,
    items: LineJournal,
    statsFile: string,
  ): Promise<JobResult> {
    let status: number;
    try {
      status = await this.o.client.waitContainer(this.id);
    } catch (err) {
      // The daemon went away (or the container with it): nothing says how the crawl ended.
      streams.close();
      await outputs;
      throw new Error(`lost the container of the job: ${(err as Error).message}`, { cause: err });
    } finally {
      this.#stop.exited();
    }
    // The container is gone: its output ends with the attach connection.
    const drainTimer = setTimeout(() => streams.close(), DRAIN_MS);
    const [logDone, itemsDone] = await outputs;
    clearTimeout(drainTimer);
    streams.close();
    const statsText = await readStats(statsFile);
    await this.o.client.removeContainer(this.id).catch((err: unknown) =>
      this.o.logger.warn({ container: this.id, err: (err as Error).message }, 'cannot remove a job container; the next agent start removes it'),
    );
    for (const settled of [logDone, itemsDone]) if (settled!.status === 'rejected') throw settled.reason;
    const signal = signalOfStatus(status);
    return jobResult({
      exitCode: signal ? null : status,
      signal,
      statsText,
      stopReason: this.#stop.reason,
      logLineCount: log.lineCount,
      itemCount: items.lineCount,
    });
  }
}

async function readStats(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    await rm(file, { force: true });
    return text.length > MAX_STATS_BYTES ? '' : text;
  } catch {
    return ''; // the crawl never got to write them
  }
}

function definedOnly(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
}
