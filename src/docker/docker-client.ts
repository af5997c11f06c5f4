/**
 * A small Docker Engine API client over a unix socket (node:http): the calls scrapydd needs to
 * run one-shot containers — ping and version, image inspect, container create, attach (the
 * hijacked stream, demultiplexed), start, wait, kill, remove, inspect, list by label. It works
 * with Docker and with podman's Docker-compatible service.
 */
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { demultiplex } from './docker-frames.js';
import { DockerApiError, DockerImageMissing, DockerTimeout, DockerUnreachable } from './docker-errors.js';
import { dockerSocketPath } from './docker-host.js';
import type { ContainerCreateBody, ContainerInfo, ContainerSummary, DockerVersion, ImageInfo } from './docker-types.js';

/** The newest API version this client was written against; older daemons are spoken to in theirs. */
const CLIENT_API_VERSION = '1.44';
const SHORT_REQUEST_MS = 120_000;
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface AttachedStreams {
  /** The container's stdin; ending it (or losing the connection) closes it in the container. */
  readonly stdin: Duplex;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Drops the connection (the container's stdin sees EOF). */
  close(): void;
}

interface Answer {
  status: number;
  body: string;
}

export class DockerClient {
  readonly socketPath: string;
  readonly #agent = new http.Agent({ keepAlive: true });
  #apiPrefix: Promise<string> | undefined;

  /** `host`: a docker_host value (unix:///path or /path). */
  constructor(readonly host: string) {
    this.socketPath = dockerSocketPath(host);
  }

  /** Closes idle connections (a long-lived process need not call it). */
  close(): void {
    this.#agent.destroy();
  }

  async ping(): Promise<void> {
    await this.#call('GET', '/_ping', { versioned: false });
  }

  async version(): Promise<DockerVersion> {
    return JSON.parse((await this.#call('GET', '/version', { versioned: false })).body) as DockerVersion;
  }

  /** The image's details; DockerImageMissing when it is not on the host. */
  async inspectImage(image: string): Promise<ImageInfo> {
    const answer = await this.#call('GET', `/images/${encodeURIComponent(image)}/json`, { allow: [404] });
    if (answer.status === 404) throw new DockerImageMissing(image);
    return JSON.parse(answer.body) as ImageInfo;
  }

  /** Creates a container; DockerImageMissing when its image is not on the host (never pulled). */
  async createContainer(body: ContainerCreateBody): Promise<string> {
    const answer = await this.#call('POST', '/containers/create', { json: body, allow: [404] });
    if (answer.status === 404) throw new DockerImageMissing(body.Image, new Error(errorDetail(answer.body)));
    return (JSON.parse(answer.body) as { Id: string }).Id;
  }

  /**
   * Attaches to a created container's stdin, stdout and stderr (before start, so no output is
   * missed). The connection is hijacked: after the 101 answer it carries stdin one way and
   * the multiplexed stdout/stderr frames the other.
   */
  async attach(id: string, opts: { stdin: boolean }): Promise<AttachedStreams> {
    const path = `${await this.#prefix()}/containers/${encodeURIComponent(id)}/attach?stream=1&stdout=1&stderr=1&stdin=${opts.stdin ? 1 : 0}`;
    const socket = await new Promise<Duplex>((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        method: 'POST',
        path,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'text/plain' },
      });
      req.once('upgrade', (_res, upgraded, head) => {
        if (head.length > 0) upgraded.unshift(head);
        resolve(upgraded);
      });
      req.once('response', (res) => {
        readBody(res)
          .then((body) => reject(new DockerApiError('POST', redact(path), res.statusCode ?? 0, errorDetail(body) || 'the daemon did not switch protocols')))
          .catch(reject);
      });
      req.once('error', (err) => reject(this.#transportError(err)));
      req.end();
    });
    const { stdout, stderr } = demultiplex(socket);
    return { stdin: socket, stdout, stderr, close: () => socket.destroy() };
  }

  async startContainer(id: string): Promise<void> {
    // 304: already started.
    await this.#call('POST', `/containers/${encodeURIComponent(id)}/start`, { allow: [304] });
  }

  /** Waits (without a time limit) until the container has stopped; its exit status. */
  async waitContainer(id: string): Promise<number> {
    const answer = await this.#call('POST', `/containers/${encodeURIComponent(id)}/wait`, { timeoutMs: 0 });
    const result = JSON.parse(answer.body) as { StatusCode: number; Error?: { Message?: string } | null };
    if (result.Error?.Message) throw new DockerApiError('POST', `/containers/${id}/wait`, answer.status, result.Error.Message);
    return result.StatusCode;
  }

  /** Sends a signal (`SIGINT`, `SIGKILL`); a container already stopped or gone is no error. */
  async killContainer(id: string, signal: string): Promise<void> {
    await this.#call('POST', `/containers/${encodeURIComponent(id)}/kill?signal=${encodeURIComponent(signal)}`, { allow: [404, 409] });
  }

  /** Removes the container (killing it if it runs) with its anonymous volumes; a gone one is no error. */
  async removeContainer(id: string): Promise<void> {
    await this.#call('DELETE', `/containers/${encodeURIComponent(id)}?force=1&v=1`, { allow: [404, 409] });
  }

  async inspectContainer(id: string): Promise<ContainerInfo> {
    return JSON.parse((await this.#call('GET', `/containers/${encodeURIComponent(id)}/json`)).body) as ContainerInfo;
  }

  /** Containers (running or not) carrying every one of `labels`. */
  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    const answer = await this.#call('GET', `/containers/json?all=1&filters=${encodeURIComponent(filters)}`);
    return JSON.parse(answer.body) as ContainerSummary[];
  }

  /** `/vX.Y`: the lower of the daemon's API version and ours, asked once. */
  #prefix(): Promise<string> {
    this.#apiPrefix ??= this.version().then(
      (v) => `/v${olderVersion(v.ApiVersion ?? CLIENT_API_VERSION, CLIENT_API_VERSION)}`,
      (err: unknown) => {
        this.#apiPrefix = undefined; // ask again next time: the daemon may come up
        throw err;
      },
    );
    return this.#apiPrefix;
  }

  async #call(
    method: string,
    path: string,
    opts: { json?: unknown; allow?: number[]; versioned?: boolean; timeoutMs?: number } = {},
  ): Promise<Answer> {
    const fullPath = opts.versioned === false ? path : `${await this.#prefix()}${path}`;
    const timeoutMs = opts.timeoutMs ?? SHORT_REQUEST_MS;
    const payload = opts.json === undefined ? undefined : JSON.stringify(opts.json);
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          agent: this.#agent,
          method,
          path: fullPath,
          headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (res) => {
          readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
        },
      );
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new DockerTimeout(method, redact(path), timeoutMs)));
      }
      req.once('error', (err) => reject(err instanceof DockerTimeout ? err : this.#transportError(err)));
      req.end(payload);
    });
    if (answer.status >= 200 && answer.status < 300) return answer;
    if (opts.allow?.includes(answer.status)) return answer;
    throw new DockerApiError(method, redact(path), answer.status, errorDetail(answer.body));
  }

  #transportError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    // Connection-level failures mean the daemon is not there (or not ours to use).
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'EPERM' || code === 'ENOTSOCK') {
      return new DockerUnreachable(this.host, err);
    }
    return err;
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

/** The daemon's message from an error body ({"message": ...}), else the body itself, trimmed. */
function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 500);
}

/** A path for messages: the query (filters, signals) is noise there. */
function redact(path: string): string {
  return path.split('?')[0]!;
}

/** The older of two API versions ("1.41" < "1.44"). */
function olderVersion(a: string, b: string): string {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor < bMajor || (aMajor === bMajor && aMinor < bMinor) ? a : b;
}
