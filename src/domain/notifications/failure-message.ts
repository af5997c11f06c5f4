/** The text of a failure e-mail: subject and plain-text body built from the job's row and the end of its log. */
import type { JobRow } from '../../storage/jobs-repo.js';
import { jobName } from '../jobs/job-names.js';

/** How many of the job's last log lines the mail quotes. */
export const LOG_TAIL_LINES = 30;
/** Longer log lines are cut (a line can be a whole page of HTML). */
export const LOG_LINE_MAX_CHARS = 500;

export interface MailMessage {
  readonly subject: string;
  readonly body: string;
}

export interface FailedJobFacts {
  readonly job: JobRow;
  /** The job's last log lines, oldest first (at most LOG_TAIL_LINES are quoted). */
  readonly logTail: readonly string[];
  /** The node's display name, when the job ran on a node that still exists. */
  readonly nodeName?: string;
}

/** The path of the job's log on any server (see src/server/http/job-files.ts). */
export function jobLogPath(job: Pick<JobRow, 'project' | 'spider' | 'key'>): string {
  const part = encodeURIComponent;
  return `/logs/${part(job.project)}/${part(job.spider)}/${part(job.key)}.log`;
}

/**
 * Subject `[scrapydd] job failed: <project>/<spider> <job>` (`job lost` for
 * LOST); the body lists what an operator needs to start looking, and nothing
 * the job was given (arguments and settings may hold credentials).
 */
export function failureMessage({ job, logTail, nodeName }: FailedJobFacts): MailMessage {
  const what = job.state === 'LOST' ? 'lost' : 'failed';
  const subject = oneLine(`[scrapydd] job ${what}: ${job.project}/${job.spider} ${job.key}`);
  const node = job.nodeId === undefined ? '-' : nodeName ? `${nodeName} (nodes/${job.nodeId})` : `nodes/${job.nodeId}`;
  const fields: [string, string][] = [
    ['Project', job.project],
    ['Spider', job.spider],
    ['Job id', job.key],
    ['Job name', jobName(job.project, job.spider, job.key)],
    ['State', job.state],
    ['Close reason', job.closeReason || '-'],
    ['Exit code', job.exitCode === undefined ? '-' : String(job.exitCode)],
    ['Node', node],
    ['Version', job.versionName],
    ['Started', job.startTime ?? '-'],
    ['Ended', job.endTime ?? '-'],
    ['Attempt', String(job.attempt)],
    ['Items', String(job.itemCount)],
    ['Log', jobLogPath(job)],
  ];
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  const tail = logTail.slice(-LOG_TAIL_LINES).map(logLine);
  const lines = [
    job.state === 'LOST' ? 'A scrapydd job was lost: its agent went away while it ran.' : 'A scrapydd job failed.',
    '',
    ...fields.map(([k, v]) => `${`${k}:`.padEnd(width)}${oneLine(v)}`),
    '',
    tail.length === 0
      ? 'The job logged nothing.'
      : `Last ${tail.length} of ${job.logLineCount} log line${job.logLineCount === 1 ? '' : 's'}:`,
    ...(tail.length === 0 ? [] : ['', ...tail]),
    '',
  ];
  return { subject, body: lines.join('\n') };
}

/** Control characters (a CR, an escape sequence) go; tabs stay. */
function logLine(line: string): string {
  const clean = line.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ');
  return clean.length > LOG_LINE_MAX_CHARS ? `${clean.slice(0, LOG_LINE_MAX_CHARS)} [...]` : clean;
}

function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ');
}
