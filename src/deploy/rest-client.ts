/**
 * The few REST calls a deploy makes (look a project up, upload a version), over
 * http or https (with an optional private CA), with every failure turned into a
 * DeployError whose message names the server but never the credentials.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { DeployError, EXIT } from './deploy-error.js';

export interface RestClientOptions {
  /** The server's base URL (scrapy.cfg's `url`), without credentials. */
  readonly baseUrl: URL;
  /** The Authorization header value, if any. */
  readonly authorization: string | undefined;
  /** Who the credentials are, for an authentication failure's message (never the secret). */
  readonly credentialsLabel: string;
  /** PEM file of the CA that signed an https server's certificate. */
  readonly caFile?: string;
  readonly timeoutMs: number;
}

/** The proto3 JSON of a scrapydd.v1.Version, as far as a deploy reads it. */
export interface VersionJson {
  readonly name: string;
  readonly spiders?: string[];
  readonly eggSha256?: string;
  readonly eggSizeBytes?: string;
  readonly settingsModule?: string;
}

interface Reply {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
}

/** Bodies of answers are read up to this size; error messages are short. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export class RestClient {
  private readonly ca: Buffer | undefined;

  constructor(private readonly opts: RestClientOptions) {
    if (opts.caFile !== undefined) {
      try {
        this.ca = readFileSync(opts.caFile);
      } catch (err) {
        throw new DeployError(`cannot read --ca-file ${opts.caFile}: ${(err as Error).message}`, EXIT.usage);
      }
    }
  }

  /** The base URL as shown in messages. */
  get serverLabel(): string {
    return this.opts.baseUrl.toString().replace(/\/+$/, '');
  }

  /** True when the project exists and the caller may see it; false when it does not exist. */
  async projectExists(project: string): Promise<boolean> {
    const reply = await this.send('GET', `/v1/projects/${encodeURIComponent(project)}`);
    if (reply.status === 200) return true;
    if (reply.status === 404 && errorStatus(reply) === 'NOT_FOUND') return false;
    throw this.failure(reply, `looking up project '${project}'`);
  }

  /**
   * Uploads the egg as multipart/form-data: the `version` (and `createProject`) fields, then
   * the `egg` file. With createProject the server makes the project and the version in one
   * transaction, so an egg it refuses leaves no empty project behind.
   */
  async uploadVersion(project: string, version: string, egg: Buffer, fileName: string, createProject: boolean): Promise<VersionJson> {
    const boundary = `scrapydd-${randomBytes(12).toString('hex')}`;
    const field = (name: string, value: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    const body = Buffer.concat([
      field('version', version),
      ...(createProject ? [field('createProject', 'true')] : []),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="egg"; filename="${fileName.replace(/["\r\n\\]/g, '_')}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      egg,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const reply = await this.send('POST', `/v1/projects/${encodeURIComponent(project)}/versions:upload`, {
      contentType: `multipart/form-data; boundary=${boundary}`,
      body,
    });
    if (reply.status !== 200) throw this.failure(reply, `uploading version '${version}' of project '${project}'`);
    const parsed = parseJson(reply.body);
    if (parsed === undefined || typeof (parsed as VersionJson).name !== 'string') {
      throw new DeployError(`${this.serverLabel} answered the upload with something that is not a scrapydd Version`, EXIT.refused);
    }
    return parsed as VersionJson;
  }

  private send(method: string, path: string, payload?: { contentType: string; body: Buffer }): Promise<Reply> {
    const base = this.opts.baseUrl;
    const url = new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'scrapydd-deploy' };
    if (this.opts.authorization !== undefined) headers.authorization = this.opts.authorization;
    if (payload) {
      headers['content-type'] = payload.contentType;
      headers['content-length'] = String(payload.body.length);
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (!settled) {
          settled = true;
          fn();
        }
      };
      const req = transport.request(url, { method, headers, ...(this.ca && url.protocol === 'https:' ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_REPLY_BYTES) chunks.push(chunk);
        });
        res.on('end', () =>
          finish(() =>
            resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }),
          ),
        );
        res.on('error', (err) => finish(() => reject(this.networkFailure(err))));
      });
      req.setTimeout(this.opts.timeoutMs, () => {
        req.destroy(Object.assign(new Error('timed out'), { code: 'SCRAPYDD_TIMEOUT' }));
      });
      // A server may answer (e.g. 413) and close before the whole body is written: the answer wins.
      req.on('error', (err) => finish(() => reject(this.networkFailure(err))));
      req.end(payload?.body);
    });
  }

  private failure(reply: Reply, action: string): DeployError {
    const message = serverMessage(reply);
    if (reply.status === 401) {
      const hint = this.opts.authorization === undefined
        ? ' (the server requires credentials: give -u, set SCRAPYDD_USERNAME/SCRAPYDD_PASSWORD or SCRAPYDD_API_KEY, or use ~/.scrapydd)'
        : '';
      return new DeployError(`authentication failed for ${this.serverLabel} with ${this.opts.credentialsLabel}: ${message}${hint}`, EXIT.auth);
    }
    if (reply.status === 403) return new DeployError(`permission denied ${action} on ${this.serverLabel}: ${message}`, EXIT.auth);
    if (reply.status >= 300 && reply.status < 400) {
      return new DeployError(`${this.serverLabel} answered ${action} with a redirect (HTTP ${reply.status}); give the URL it redirects to`, EXIT.refused);
    }
    return new DeployError(`${action} failed: ${message}`, EXIT.refused);
  }

  private networkFailure(err: Error): DeployError {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const where = this.serverLabel;
    if (code === 'ECONNREFUSED') return new DeployError(`cannot reach ${where}: connection refused (is the server running?)`, EXIT.unreachable);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new DeployError(`cannot reach ${where}: unknown host`, EXIT.unreachable);
    if (code === 'SCRAPYDD_TIMEOUT' || code === 'ETIMEDOUT') {
      return new DeployError(`no answer from ${where} within ${Math.round(this.opts.timeoutMs / 1000)} s (see --timeout)`, EXIT.unreachable);
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return new DeployError(`${where} closed the connection (${code})`, EXIT.unreachable);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/.test(code)) {
      return new DeployError(
        `TLS with ${where} failed: ${err.message}` + (this.ca ? '' : ' (for a server certificate from a private CA, give --ca-file)'),
        EXIT.unreachable,
      );
    }
    return new DeployError(`cannot reach ${where}: ${err.message}`, EXIT.unreachable);
  }
}

/** The message of a google.rpc.Status JSON answer, or a description of an answer that is not one. */
function serverMessage(reply: Reply): string {
  const parsed = parseJson(reply.body) as { error?: { message?: unknown } } | undefined;
  if (parsed && typeof parsed.error?.message === 'string' && parsed.error.message !== '') return parsed.error.message;
  return `HTTP ${reply.status} ${reply.statusText} (not a scrapydd REST answer: is this the URL of a scrapydd server?)`;
}

function errorStatus(reply: Reply): string | undefined {
  const parsed = parseJson(reply.body) as { error?: { status?: unknown } } | undefined;
  return typeof parsed?.error?.status === 'string' ? parsed.error.status : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
