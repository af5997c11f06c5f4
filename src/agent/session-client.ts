/**
 * The agent's NodeSession stream: connects to the configured servers in
 * order (the next one after a failure), reconnects forever with backoff,
 * sends hello and heartbeats, and hands the server's commands to the jobs.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StreamNodeSessionRequest, StreamNodeSessionResponse } from '../../gen/scrapydd/v1/node_session.js';
import type { AgentConfig } from '../config/types.js';
import { Backoff, sleep } from './backoff.js';
import type { EggSource } from './egg-cache.js';
import type { NodeIdentity } from './identity.js';
import type { JobManager } from './job-manager.js';
import type { SessionSender } from './job-reporter.js';
import { clientsFor, describeGrpcError, isAuthError, metadataFor, type ServerClients } from './server-clients.js';
import { refusalHint } from './hints.js';

type Stream = grpc.ClientDuplexStream<StreamNodeSessionRequest, StreamNodeSessionResponse>;

export interface SessionClientOptions {
  config: AgentConfig;
  identity: NodeIdentity | undefined;
  jobs: JobManager;
  logger: Logger;
  agentVersion: string;
}

interface Outcome {
  accepted: boolean;
  error?: unknown;
}

const DEFAULT_HEARTBEAT_S = 10;

export class SessionClient {
  private readonly clients: ServerClients[];
  private current = 0;
  private readonly stopping = new AbortController();
  private stream: Stream | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: SessionClientOptions) {
    this.clients = opts.config.servers.map((s) => clientsFor(opts.config, s));
  }

  /** The server the agent talks to now, for FetchEgg. */
  eggSource(): EggSource {
    return { client: this.clients[this.current]!.sessions, metadata: metadataFor(this.opts.identity?.token) };
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Ends the stream (the server closes the session) and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.stream?.end();
    const closed = this.running ?? Promise.resolve();
    await Promise.race([closed, sleep(5_000)]);
    this.stream?.cancel();
    for (const c of this.clients) c.close();
  }

  private async loop(): Promise<void> {
    const log = this.opts.logger;
    const backoff = new Backoff();
    let lastRefusal = '';
    while (!this.stopping.signal.aborted) {
      const client = this.clients[this.current]!;
      const outcome = await this.session(client);
      if (this.stopping.signal.aborted) break;
      const { code, message } = outcome.error === undefined ? { code: 'OK', message: 'stream ended' } : describeGrpcError(outcome.error);
      if (outcome.accepted) {
        backoff.reset();
        log.warn({ server: client.target, code, err: message }, 'session ended; reconnecting');
      } else {
        if (this.clients.length > 1) this.current = (this.current + 1) % this.clients.length;
        const hint = isAuthError(outcome.error) || code === 'NOT_FOUND' ? refusalHint(this.opts.config, this.opts.identity) : undefined;
        if (hint && hint !== lastRefusal) log.error({ server: client.target, code, err: message }, hint);
        else log.warn({ server: client.target, code, err: message }, 'cannot open a session');
        lastRefusal = hint ?? '';
      }
      const delay = backoff.next();
      log.debug({ delayMs: delay, next: this.clients[this.current]!.target }, 'reconnecting after a pause');
      await sleep(delay, this.stopping.signal);
    }
  }

  /** One session, from hello to the end of the stream. */
  private session(client: ServerClients): Promise<Outcome> {
    const { config, jobs, logger } = this.opts;
    return new Promise<Outcome>((resolve) => {
      const call: Stream = client.sessions.streamNodeSession(metadataFor(this.opts.identity?.token));
      this.stream = call;
      let accepted = false;
      let done = false;
      let heartbeat: NodeJS.Timeout | undefined;
      const flushes = new Set<(err: Error) => void>();

      const sender: SessionSender = {
        write: (message) => {
          if (done) return false;
          call.write(message);
          return true;
        },
        flush: (message) =>
          new Promise<void>((res, rej) => {
            if (done) return rej(new Error('the session is closed'));
            flushes.add(rej);
            call.write(message, (err?: Error | null) => {
              flushes.delete(rej);
              if (err) rej(err);
              else res();
            });
          }),
      };

      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(acceptTimer);
        clearInterval(heartbeat);
        if (accepted) jobs.disconnected();
        for (const rej of flushes) rej(new Error('the session closed'));
        flushes.clear();
        if (this.stream === call) this.stream = undefined;
        call.removeAllListeners('data');
        call.on('error', () => undefined); // a late error after end must not crash the process
        call.end();
        resolve({ accepted, error });
      };

      const acceptTimer = setTimeout(() => {
        logger.warn({ server: client.target }, `no SessionAccepted within ${config.requestTimeoutSeconds} s`);
        call.cancel();
      }, config.requestTimeoutSeconds * 1000);

      call.on('data', (msg: StreamNodeSessionResponse) => {
        const cmd = msg.command;
        if (!cmd) return;
        if (cmd.$case === 'accepted') {
          if (accepted) return;
          accepted = true;
          clearTimeout(acceptTimer);
          const a = cmd.accepted;
          logger.info({ server: client.target, node: a.node, session: a.session, resumed: a.resume.length }, 'session accepted');
          jobs.accepted(sender, a.resume);
          const every = (a.heartbeatIntervalSeconds > 0 ? a.heartbeatIntervalSeconds : DEFAULT_HEARTBEAT_S) * 1000;
          heartbeat = setInterval(() => {
            sender.write({ event: { $case: 'heartbeat', heartbeat: { runningJobs: jobs.jobNames() } } });
            jobs.sweep();
          }, every);
          return;
        }
        if (!accepted) {
          logger.warn({ command: cmd.$case }, 'command before SessionAccepted ignored');
          return;
        }
        switch (cmd.$case) {
          case 'assignment':
            jobs.assign(cmd.assignment);
            break;
          case 'cancel':
            jobs.cancel(cmd.cancel);
            break;
          case 'kill':
            jobs.kill(cmd.kill);
            break;
        }
      });
      // 'status' always comes last, once; a failed call emits 'error' just before it.
      call.on('error', (err) => finish(err));
      call.on('status', (status: grpc.StatusObject) => finish(status.code === 0 ? undefined : status));

      logger.debug({ server: client.target, runningJobs: jobs.size }, 'opening a session');
      call.write({
        event: {
          $case: 'hello',
          hello: { tags: [...config.tags], slots: config.slots, agentVersion: this.opts.agentVersion, runningJobs: jobs.jobNames() },
        },
      });
    });
  }
}
