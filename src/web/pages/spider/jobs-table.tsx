/** The spider's jobs, newest first, paged; refreshes every few seconds while any shown job is active; cancel with confirmation. */
import { useEffect, useState } from 'preact/hooks';
import { api, resourcePath } from '../../api/client';
import { jobHref, lastSegment } from '../../api/names';
import type { Job, ListJobsResponse } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { Ellipsis } from '../../components/data-table';
import { useNotice } from '../../components/notice';
import { Section } from '../../components/page';
import { PagedTable } from '../../components/paged-table';
import { usePageTokens } from '../../components/pagination';
import { duration, RelativeTime } from '../../components/relative-time';
import { StateBadge } from '../../components/state-badge';
import { useApi } from '../../components/use-api';

const ACTIVE = new Set(['PENDING', 'RUNNING', 'CANCELLING']);
const CANCELLABLE = new Set(['PENDING', 'RUNNING']);
/** How often the table refreshes while a job in it is active. */
export const JOBS_POLL_MS = 3000;

export function SpiderJobs(props: { path: string; changed: number }) {
  const { notify } = useNotice();
  const pages = usePageTokens();
  const jobs = useApi(
    (signal) => api.get<ListJobsResponse>(`${props.path}/jobs`, { query: { pageSize: 20, pageToken: pages.token }, signal }),
    [props.path, pages.token, props.changed],
  );
  const [victim, setVictim] = useState<Job | undefined>(undefined);
  const active = (jobs.data?.jobs ?? []).some((j) => ACTIVE.has(j.state ?? ''));

  useEffect(() => {
    if (!active || jobs.loading) return;
    const timer = window.setTimeout(jobs.reload, JOBS_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [active, jobs.loading, jobs.data, jobs.reload]);

  async function cancel() {
    if (!victim) return;
    await api.post(`${resourcePath(victim.name)}:cancel`, {});
    notify(`Cancelling job ${lastSegment(victim.name)}.`);
    setVictim(undefined);
    jobs.reload();
  }

  return (
    <Section title="Jobs" actions={active ? <span class="muted live-note">Refreshing while jobs run</span> : undefined}>
      <PagedTable
        state={jobs}
        pages={pages}
        caption="Jobs of this spider"
        rows={(data) => data.jobs}
        rowKey={(j) => j.name}
        empty="No jobs yet: run the spider above, or add a trigger."
        columns={[
          { header: 'Job', render: (j) => <Ellipsis text={lastSegment(j.name)} href={jobHref(j.name)} /> },
          { header: 'State', render: (j) => <StateBadge state={j.state} />, fit: 'nowrap' },
          { header: 'Node', render: (j) => lastSegment(j.node) || '—', wide: true },
          { header: 'Started', render: (j) => <RelativeTime time={j.startTime} never="not yet" />, fit: 'nowrap' },
          { header: 'Duration', render: (j) => duration(j.startTime, j.endTime), fit: 'nowrap', wide: true },
          { header: 'Items', render: (j) => String(j.itemCount ?? '0'), numeric: true, fit: 'nowrap' },
          {
            header: 'Files',
            fit: 'nowrap',
            render: (j) => (
              <span class="link-row">
                {j.logUrl && (
                  <a href={j.logUrl} target="_blank" rel="noopener" aria-label={`Log of job ${lastSegment(j.name)}`}>
                    Log
                  </a>
                )}
                {j.itemsUrl && (
                  <a href={j.itemsUrl} target="_blank" rel="noopener" aria-label={`Items of job ${lastSegment(j.name)}`}>
                    Items
                  </a>
                )}
              </span>
            ),
          },
          {
            header: 'Actions',
            fit: 'nowrap',
            render: (j) =>
              CANCELLABLE.has(j.state ?? '') ? (
                <button type="button" class="button button-small button-danger" aria-label={`Cancel job ${lastSegment(j.name)}`} onClick={() => setVictim(j)}>
                  Cancel
                </button>
              ) : null,
          },
        ]}
      />
      <ConfirmDialog open={victim !== undefined} title="Cancel job?" confirmLabel="Cancel job" danger onConfirm={cancel} onCancel={() => setVictim(undefined)}>
        <p class="break-anywhere">
          Job {victim && lastSegment(victim.name)} is {victim?.state === 'RUNNING' ? 'stopped on its node (the items so far are kept)' : 'taken out of the queue'}.
        </p>
      </ConfirmDialog>
    </Section>
  );
}
