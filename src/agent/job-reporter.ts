/**
 * Sends one job's reports on the current session, in order and without gaps:
 * JobStarted, JobLogLines and JobItems numbered from the server's resume
 * offsets (live batches straight away, anything missed re-read from
 * log.txt / items.jl), then JobFinished once everything before it is sent.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Job_State } from '../../gen/scrapydd/v1/job.js';
import type { StreamNodeSessionRequest } from '../../gen/scrapydd/v1/node_session.js';
import { ITEMS_FILE, LOG_FILE, type FinishedResult } from './job-store.js';

/** The open session as a job sees it. */
export interface SessionSender {
  /** Queues a message on the stream; false when the stream is gone. */
  write(message: StreamNodeSessionRequest): boolean;
  /** Writes and resolves once grpc-js has flushed it (flow control for catch-up); rejects when the stream is gone. */
  flush(message: StreamNodeSessionRequest): Promise<void>;
}

export type ReadLines = (file: string, fromLine: number, maxLines: number) => Promise<string[]>;

const BATCH = 500;

export class JobReporter {
  private session: SessionSender | undefined;
  private sentLog = 0;
  private sentItems = 0;
  private producedLog = 0;
  private producedItems = 0;
  private pid: number | undefined;
  private startedPending = false;
  private result: FinishedResult | undefined;
  private finishedSent = false;
  private pumping = false;
  private again = false;

  constructor(
    readonly job: string,
    private readonly dir: string,
    private readonly readLines: ReadLines,
    private readonly logger: Logger,
    /** Called each time JobFinished has been flushed to a stream. */
    private readonly onReported: () => void,
  ) {}

  /** A session took the job: continue from what the server has. */
  attach(session: SessionSender, logLinesReceived: number, itemsReceived: number): void {
    this.session = session;
    this.sentLog = logLinesReceived;
    this.sentItems = itemsReceived;
    this.finishedSent = false;
    this.startedPending = this.pid !== undefined && this.result === undefined;
    this.kick();
  }

  detach(): void {
    this.session = undefined;
  }

  get counts(): { sentLogLines: number; sentItems: number } {
    return { sentLogLines: this.sentLog, sentItems: this.sentItems };
  }

  /** How many log lines and items the job has produced so far (as far as the agent knows). */
  get producedCounts(): { logLines: number; items: number } {
    return { logLines: this.producedLog, items: this.producedItems };
  }

  started(pid: number): void {
    this.pid = pid;
    this.startedPending = true;
    this.kick();
  }

  log(lines: string[]): void {
    if (lines.length === 0) return;
    if (this.canSendLive() && this.sentLog === this.producedLog) {
      const first = this.sentLog;
      this.sentLog += lines.length;
      this.producedLog += lines.length;
      this.session!.write({ event: { $case: 'jobLogLines', jobLogLines: { job: this.job, firstLine: String(first), lines } } });
      return;
    }
    this.producedLog += lines.length;
    this.kick();
  }

  items(items: string[]): void {
    if (items.length === 0) return;
    if (this.canSendLive() && this.sentItems === this.producedItems) {
      const first = this.sentItems;
      this.sentItems += items.length;
      this.producedItems += items.length;
      this.session!.write({ event: { $case: 'jobItems', jobItems: { job: this.job, firstItem: String(first), items } } });
      return;
    }
    this.producedItems += items.length;
    this.kick();
  }

  /** The files hold at least this many lines / items (e.g. after a restart, or lines appended by the agent). */
  produced(logLines: number, items: number): void {
    this.producedLog = Math.max(this.producedLog, logLines);
    this.producedItems = Math.max(this.producedItems, items);
    this.kick();
  }

  /** The job ended: send what is left, then JobFinished. */
  finish(result: FinishedResult): void {
    this.result = result;
    this.produced(result.logLineCount, result.itemCount);
  }

  private canSendLive(): boolean {
    return this.session !== undefined && !this.pumping;
  }

  private kick(): void {
    if (!this.session) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.again = false;
    void this.pump()
      .catch((err: unknown) => {
        // The stream broke or a file could not be read; the next session resumes from the server's offsets.
        this.logger.warn({ job: this.job, err: (err as Error).message }, 'sending job reports stopped');
      })
      .finally(() => {
        this.pumping = false;
        if (this.again) this.kick();
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      const session = this.session;
      if (!session) return;
      if (this.startedPending && this.pid !== undefined) {
        this.startedPending = false;
        await session.flush({ event: { $case: 'jobStarted', jobStarted: { job: this.job, pid: this.pid } } });
        continue;
      }
      if (this.sentLog < this.producedLog) {
        const lines = await this.readLines(join(this.dir, LOG_FILE), this.sentLog, Math.min(BATCH, this.producedLog - this.sentLog));
        if (lines.length === 0) throw new Error(`${LOG_FILE} has fewer than ${this.producedLog} lines`);
        if (this.session !== session) continue;
        const first = this.sentLog;
        this.sentLog += lines.length;
        await session.flush({ event: { $case: 'jobLogLines', jobLogLines: { job: this.job, firstLine: String(first), lines } } });
        continue;
      }
      if (this.sentItems < this.producedItems) {
        const items = await this.readLines(join(this.dir, ITEMS_FILE), this.sentItems, Math.min(BATCH, this.producedItems - this.sentItems));
        if (items.length === 0) throw new Error(`${ITEMS_FILE} has fewer than ${this.producedItems} items`);
        if (this.session !== session) continue;
        const first = this.sentItems;
        this.sentItems += items.length;
        await session.flush({ event: { $case: 'jobItems', jobItems: { job: this.job, firstItem: String(first), items } } });
        continue;
      }
      const r = this.result;
      if (r && !this.finishedSent) {
        this.finishedSent = true;
        await session.flush({
          event: {
            $case: 'jobFinished',
            jobFinished: {
              job: this.job,
              state: Job_State[r.state],
              exitCode: r.exitCode,
              warning: r.warning,
              closeReason: r.closeReason,
              statsJson: r.statsJson,
              logLineCount: String(Math.max(r.logLineCount, this.producedLog)),
              itemCount: String(Math.max(r.itemCount, this.producedItems)),
            },
          },
        });
        if (this.session === session) this.onReported();
        continue;
      }
      if (!this.again) return;
      this.again = false;
    }
  }
}
