/** Job names: projects/{project}/spiders/{spider}/jobs/{job}, with `-` wildcards for lists. */
import { InvalidArgument } from '../../errors/domain-error.js';
import { checkId, parseName } from '../names.js';

export function jobName(project: string, spider: string, key: string): string {
  return `projects/${project}/spiders/${spider}/jobs/${key}`;
}

export function parseJobName(name: string, field = 'name'): { project: string; spider: string; job: string } {
  const [project, spider, job] = parseName(name, ['projects', 'spiders', 'jobs'], field);
  return { project: checkId(project!, 'project', field), spider: checkId(spider!, 'spider', field), job: checkId(job!, 'job', field) };
}

/** A jobs parent; `-` means any project or spider (AIP-159). */
export function parseJobParent(parent: string, field = 'parent'): { project: string | undefined; spider: string | undefined } {
  const [project, spider] = parseName(parent, ['projects', 'spiders'], field);
  if (project === '-' && spider !== '-') {
    throw new InvalidArgument('with any project (-), the spider must be - too', { field });
  }
  return {
    project: project === '-' ? undefined : checkId(project!, 'project', field),
    spider: spider === '-' ? undefined : checkId(spider!, 'spider', field),
  };
}

/**
 * Retries are new jobs named after the first attempt: `{first}-r2`,
 * `{first}-r3`, ... The key of attempt `attempt` + 1 of the job `key`.
 */
export function retryKey(key: string, attempt: number): string {
  return `${firstAttemptKey(key, attempt)}-r${attempt + 1}`;
}

/** The key of the attempt a retry retries; undefined for a first attempt. */
export function retriedKey(key: string, attempt: number): string | undefined {
  if (attempt < 2) return undefined;
  const first = firstAttemptKey(key, attempt);
  return attempt === 2 ? first : `${first}-r${attempt - 1}`;
}

/** A first attempt's key is the client's (and may itself end in -rN); later attempts add -r{attempt}. */
function firstAttemptKey(key: string, attempt: number): string {
  const suffix = `-r${attempt}`;
  return attempt > 1 && key.endsWith(suffix) ? key.slice(0, -suffix.length) : key;
}
