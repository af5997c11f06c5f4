/** Job names and the UI paths built from them. */
import type { Job, JobState } from './types';

export const ACTIVE_STATES: readonly JobState[] = ['PENDING', 'RUNNING', 'CANCELLING'];

export function isActive(state: string | undefined): boolean {
  return ACTIVE_STATES.includes(state as JobState);
}

/** The parts of projects/{project}/spiders/{spider}/jobs/{job}. */
export function jobParts(name: string): { project: string; spider: string; job: string } {
  const p = name.split('/');
  return { project: p[1] ?? '', spider: p[3] ?? '', job: p[5] ?? '' };
}

export { jobHref } from './names';

/** The REST path of a job (each segment encoded). */
export function jobApiPath(project: string, spider: string, job: string): string {
  return `/v1/projects/${encodeURIComponent(project)}/spiders/${encodeURIComponent(spider)}/jobs/${encodeURIComponent(job)}`;
}

/** "nodes/12" → "12". */
export function nodeId(node: string | undefined): string {
  return node ? node.replace(/^nodes\//, '') : '';
}

export function itemCount(job: Job): number {
  return Number(job.itemCount ?? 0);
}
