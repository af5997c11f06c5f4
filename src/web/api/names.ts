/** Resource names (`projects/p/spiders/s/jobs/j`) to ids and UI paths. */
import { pathSeg } from '../router';

/** The last segment of a resource name: `projects/p/versions/1.2` → `1.2`. */
export function lastSegment(name: string | undefined): string {
  if (!name) return '';
  return name.slice(name.lastIndexOf('/') + 1);
}

export function projectHref(project: string): string {
  return `/ui/projects/${pathSeg(project)}`;
}

export function spiderHref(project: string, spider: string): string {
  return `${projectHref(project)}/spiders/${pathSeg(spider)}`;
}

/** The job page of `projects/{p}/spiders/{s}/jobs/{j}`. */
export function jobHref(jobName: string): string {
  const [, project = '', , spider = '', , job = ''] = jobName.split('/');
  return `${spiderHref(project, spider)}/jobs/${pathSeg(job)}`;
}

/** Bytes in words: 1.2 MiB. */
export function byteSize(bytes: string | number | undefined): string {
  const n = Number(bytes ?? 0);
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
