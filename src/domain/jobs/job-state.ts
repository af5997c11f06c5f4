/**
 * The job state machine, as a table of allowed transitions checked in one
 * place. Terminal states never change again; LOST is terminal too (a retry
 * is a new job), so a job can never run twice.
 */
import { FailedPrecondition } from '../../errors/domain-error.js';

export const JOB_STATES = ['PENDING', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST']);
/** States in which a job occupies an agent slot. */
export const ACTIVE_STATES: readonly JobState[] = ['RUNNING', 'CANCELLING'];

const ALLOWED: Readonly<Record<JobState, readonly JobState[]>> = {
  // claimed by an agent, or cancelled while waiting
  PENDING: ['RUNNING', 'CANCELLED'],
  // finished as reported by its agent, stop requested, or its agent went silent
  RUNNING: ['CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'],
  // a stopping job may still end any way the crawl ends
  CANCELLING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
  LOST: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(from: JobState, to: JobState, job: string): void {
  if (!canTransition(from, to)) {
    throw new FailedPrecondition(`job '${job}' is ${from} and cannot become ${to}`, { reason: 'INVALID_JOB_STATE' });
  }
}

export function isJobState(v: string): v is JobState {
  return (JOB_STATES as readonly string[]).includes(v);
}

/** scrapyd's coarser view: pending, running (incl. stopping) or finished. */
export function scrapydState(state: JobState): 'pending' | 'running' | 'finished' {
  if (state === 'PENDING') return 'pending';
  if (state === 'RUNNING' || state === 'CANCELLING') return 'running';
  return 'finished';
}
