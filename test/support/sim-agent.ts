/**
 * A simulated agent: speaks the real NodeSession protocol over real gRPC to
 * a real server, with a no-op runner (each job "runs" for `runMs` and then
 * finishes as told). For dispatch tests and benchmarks; the real agent has
 * its own end-to-end tests.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { Job_State } from '../../gen/scrapydd/v1/job.js';
import {
  NodeSessionServiceClient,
  type StreamNodeSessionRequest,
  type StreamNodeSessionResponse,
} from '../../gen/scrapydd/v1/node_session.js';

export interface SimAgentOptions {
  address: string;
  tags?: string[];
  slots?: number;
  /** How long each job "runs" before it finishes; Infinity to wait for a cancel. */
  runMs?: number;
  /** Bearer token of a permanent node. */
  token?: string;
  /** Report these as running in hello (reconnect tests). */
  runningJobs?: string[];
  heartbeat?: boolean;
  outcome?: 'SUCCEEDED' | 'FAILED';
  items?: number;
  /** The items each job reports (JSON lines); default `items` lines {"i": n}. */
  itemLines?: string[];
  /** On a cancel: end the job CANCELLED (default), or keep it running, as an agent whose stop has not taken effect yet. */
  onCancel?: 'finish' | 'ignore';
}

export interface Assignment {
  job: string;
  at: number;
}

export class SimAgent extends EventEmitter {
  readonly assignments: Assignment[] = [];
  readonly cancels: string[] = [];
  readonly kills: string[] = [];
  node = '';
  accepted: StreamNodeSessionResponse['command'] | undefined;
  private client: NodeSessionServiceClient;
  private call: grpc.ClientDuplexStream<StreamNodeSessionRequest, StreamNodeSessionResponse> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, NodeJS.Timeout | undefined>();
  ended: grpc.StatusObject | undefined;

  constructor(private readonly opts: SimAgentOptions) {
    super();
    this.client = new NodeSessionServiceClient(opts.address, grpc.credentials.createInsecure());
  }

  /** Opens the session; resolves once the server accepted it. */
  connect(): Promise<void> {
    const md = new grpc.Metadata();
    if (this.opts.token) md.set('authorization', `Bearer ${this.opts.token}`);
    const call = this.client.streamNodeSession(md);
    this.call = call;
    return new Promise((resolve, reject) => {
      call.on('data', (msg: StreamNodeSessionResponse) => {
        const c = msg.command;
        if (!c) return;
        if (c.$case === 'accepted') {
          this.accepted = c;
          this.node = c.accepted.node;
          if (this.opts.heartbeat !== false) {
            this.heartbeatTimer = setInterval(() => this.send({ event: { $case: 'heartbeat', heartbeat: { runningJobs: [...this.running.keys()] } } }), c.accepted.heartbeatIntervalSeconds * 1000);
          }
          resolve();
        } else if (c.$case === 'assignment') {
          const job = c.assignment.job!.name;
          this.assignments.push({ job, at: Date.now() });
          this.emit('assignment', job);
          this.start(job);
        } else if (c.$case === 'cancel') {
          const key = keyOf(c.cancel.job);
          this.cancels.push(key);
          this.emit('cancel', key);
          const name = [...this.running.keys()].find((n) => keyOf(n) === key);
          if (name && this.opts.onCancel !== 'ignore') this.finish(name, 'CANCELLED');
        } else if (c.$case === 'kill') {
          const key = keyOf(c.kill.job);
          this.kills.push(key);
          this.emit('kill', key);
          const name = [...this.running.keys()].find((n) => keyOf(n) === key);
          if (name) {
            clearTimeout(this.running.get(name));
            this.running.delete(name);
          }
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        this.ended = { code: err.code, details: err.details, metadata: err.metadata };
        this.stopTimers();
        this.emit('ended', this.ended);
        reject(err);
      });
      call.on('end', () => {
        this.stopTimers();
        this.emit('ended', undefined);
      });
      this.send({
        event: { $case: 'hello', hello: { tags: this.opts.tags ?? [], slots: this.opts.slots ?? 1, agentVersion: 'sim', runningJobs: this.opts.runningJobs ?? [] } },
      });
    });
  }

  private start(job: string): void {
    const runMs = this.opts.runMs ?? 0;
    this.send({ event: { $case: 'jobStarted', jobStarted: { job, pid: 4242 } } });
    const items = this.opts.itemLines ?? Array.from({ length: this.opts.items ?? 0 }, (_, i) => JSON.stringify({ i }));
    if (items.length) this.send({ event: { $case: 'jobItems', jobItems: { job, firstItem: '0', items } } });
    this.send({ event: { $case: 'jobLogLines', jobLogLines: { job, firstLine: '0', lines: [`started ${job}`] } } });
    const timer = Number.isFinite(runMs) ? setTimeout(() => this.finish(job, this.opts.outcome ?? 'SUCCEEDED'), runMs) : undefined;
    this.running.set(job, timer);
  }

  finish(job: string, state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): void {
    clearTimeout(this.running.get(job));
    this.running.delete(job);
    this.send({
      event: {
        $case: 'jobFinished',
        jobFinished: {
          job, state: Job_State[state], exitCode: 0, warning: false, closeReason: state === 'CANCELLED' ? 'cancelled' : 'finished',
          statsJson: '{}', logLineCount: '1', itemCount: String(this.opts.itemLines?.length ?? this.opts.items ?? 0),
        },
      },
    });
  }

  send(msg: StreamNodeSessionRequest): void {
    if (this.call && !this.call.writableEnded) this.call.write(msg);
  }

  private stopTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const t of this.running.values()) clearTimeout(t);
  }

  /** Drops the connection without a goodbye (like a network failure or a killed agent). */
  /** Stops running `job` without a word to the server, as an agent that lost it would: later heartbeats leave it out. */
  forget(job: string): void {
    clearTimeout(this.running.get(job));
    this.running.delete(job);
  }

  drop(): void {
    this.stopTimers();
    this.call?.cancel();
  }

  close(): void {
    this.stopTimers();
    this.call?.end();
    this.client.close();
  }
}

/** The job id of a job name (or the id itself). */
const keyOf = (job: string) => job.split('/').pop()!;

/** Resolves when `predicate` holds, polling every `intervalMs` (50 ms); rejects after `ms`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => Promise<T> | T,
  predicate: (v: T) => boolean = Boolean,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (predicate(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
