/**
 * Every job the user may see, newest first, filtered by state, project,
 * spider and node (the filters live in the URL query: links and reloads keep
 * them), paginated with page tokens; refreshes itself while active jobs show.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import { isActive, itemCount, jobHref, jobParts, nodeId } from '../api/job-names';
import type { Job, ListJobsResponse } from '../api/types';
import { DataTable, Ellipsis } from '../components/data-table';
import { Field } from '../components/form';
import { Page } from '../components/page';
import { Pagination, usePageTokens } from '../components/pagination';
import { duration, RelativeTime } from '../components/relative-time';
import { StateBadge } from '../components/state-badge';
import { Loaded } from '../components/status';
import { useApi } from '../components/use-api';
import { navigate, type RouteProps } from '../router';

const PAGE_SIZE = 50;
const REFRESH_MS = 5000;

export const STATE_FILTERS: readonly { value: string; label: string; filter: string }[] = [
  { value: '', label: 'All states', filter: '' },
  { value: 'active', label: 'Active (pending, running)', filter: 'state = (PENDING OR RUNNING OR CANCELLING)' },
  { value: 'PENDING', label: 'Pending', filter: 'state = PENDING' },
  { value: 'RUNNING', label: 'Running', filter: 'state = RUNNING' },
  { value: 'CANCELLING', label: 'Cancelling', filter: 'state = CANCELLING' },
  { value: 'SUCCEEDED', label: 'Succeeded', filter: 'state = SUCCEEDED' },
  { value: 'FAILED', label: 'Failed', filter: 'state = FAILED' },
  { value: 'CANCELLED', label: 'Cancelled', filter: 'state = CANCELLED' },
  { value: 'LOST', label: 'Lost', filter: 'state = LOST' },
];

interface Filters {
  state: string;
  project: string;
  spider: string;
  node: string;
}

function filtersOf(query: URLSearchParams): Filters {
  return { state: query.get('state') ?? '', project: query.get('project') ?? '', spider: query.get('spider') ?? '', node: query.get('node') ?? '' };
}

/** The /ui/jobs URL of a set of filters (empty ones left out). */
export function jobsHref(f: Partial<Filters>): string {
  const q = new URLSearchParams();
  for (const k of ['state', 'project', 'spider', 'node'] as const) if (f[k]) q.set(k, f[k]!);
  const s = q.toString();
  return s ? `/ui/jobs?${s}` : '/ui/jobs';
}

export function JobsPage(props: RouteProps) {
  const filters = filtersOf(props.query);
  // A new set of filters starts again at page 1 (a fresh list component).
  return (
    <Page title="Jobs" subtitle="Newest first. Filters are kept in the address: bookmark or share it.">
      <JobFilters filters={filters} />
      <JobList key={jobsHref(filters)} filters={filters} />
    </Page>
  );
}

function JobFilters(props: { filters: Filters }) {
  const [draft, setDraft] = useState(props.filters);
  useEffect(() => setDraft(props.filters), [props.filters.state, props.filters.project, props.filters.spider, props.filters.node]);
  const apply = (f: Filters) => navigate(jobsHref({ ...f, spider: f.project ? f.spider : '' }));
  return (
    <form
      class="inline-form filters"
      role="search"
      aria-label="Filter jobs"
      onSubmit={(e) => {
        e.preventDefault();
        apply({ ...draft, project: draft.project.trim(), spider: draft.spider.trim(), node: draft.node.trim().replace(/^nodes\//, '') });
      }}
    >
      <Field label="State">
        {(id) => (
          <select id={id} name="state" value={draft.state} onChange={(e) => apply({ ...draft, state: e.currentTarget.value })}>
            {STATE_FILTERS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Project">
        {(id) => <input id={id} name="project" value={draft.project} placeholder="any" onInput={(e) => setDraft({ ...draft, project: e.currentTarget.value })} />}
      </Field>
      <Field label="Spider">
        {(id) => (
          <input
            id={id}
            name="spider"
            value={draft.spider}
            placeholder={draft.project ? 'any' : 'pick a project first'}
            disabled={!draft.project.trim()}
            onInput={(e) => setDraft({ ...draft, spider: e.currentTarget.value })}
          />
        )}
      </Field>
      <Field label="Node">
        {(id) => <input id={id} name="node" value={draft.node} placeholder="any" inputMode="numeric" onInput={(e) => setDraft({ ...draft, node: e.currentTarget.value })} />}
      </Field>
      <div class="filter-buttons">
        <button type="submit" class="button button-primary">
          Apply
        </button>
        {(props.filters.state || props.filters.project || props.filters.node) && (
          <a class="button" href="/ui/jobs">
            Clear
          </a>
        )}
      </div>
    </form>
  );
}

function JobList(props: { filters: Filters }) {
  const { state, project, spider, node } = props.filters;
  const pages = usePageTokens();
  const parent = `/v1/projects/${project ? seg(project) : '-'}/spiders/${project && spider ? seg(spider) : '-'}/jobs`;
  const filter = [STATE_FILTERS.find((s) => s.value === state)?.filter ?? '', node ? `node = "nodes/${node}"` : ''].filter(Boolean).join(' AND ');
  const jobs = useApi((signal) => api.get<ListJobsResponse>(parent, { query: { pageSize: PAGE_SIZE, pageToken: pages.token, filter }, signal }), [parent, filter, pages.token]);
  const active = (jobs.data?.jobs ?? []).some((j) => isActive(j.state));
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(jobs.reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [active, jobs.reload]);
  const filtered = Boolean(state || project || node);
  return (
    <>
      <Loaded state={jobs}>
        {(data) => (
          <>
            <p class="muted list-status" aria-live="polite">
              {active ? 'Active jobs shown: refreshing every 5 s.' : `Page ${pages.number}.`}
            </p>
            <DataTable<Job>
              caption="Jobs"
              rows={data.jobs ?? []}
              rowKey={(j) => j.name}
              empty={filtered ? 'No jobs match these filters.' : 'No jobs yet. Run a spider from its project page, with the scrapyd API (schedule.json) or a trigger.'}
              columns={JOB_COLUMNS}
            />
            <Pagination pages={pages} nextPageToken={data.nextPageToken} disabled={jobs.loading} />
          </>
        )}
      </Loaded>
    </>
  );
}

export const JOB_COLUMNS = [
  { header: 'Job', render: (j: Job) => <Ellipsis text={jobParts(j.name).job} href={jobHref(j.name)} /> },
  {
    header: 'Project / spider',
    render: (j: Job) => {
      const p = jobParts(j.name);
      return `${p.project} / ${p.spider}`;
    },
  },
  { header: 'State', render: (j: Job) => <StateBadge state={j.state} />, fit: 'nowrap' as const },
  {
    header: 'Node',
    render: (j: Job) => (j.node ? <a href={jobsHref({ node: nodeId(j.node) })} title={`Jobs of ${j.node}`}>{nodeId(j.node)}</a> : <span class="muted">—</span>),
    fit: 'nowrap' as const,
    wide: true,
  },
  { header: 'Started', render: (j: Job) => <RelativeTime time={j.startTime} never="not yet" />, fit: 'nowrap' as const },
  { header: 'Duration', render: (j: Job) => (j.startTime ? duration(j.startTime, j.endTime) : '—'), fit: 'nowrap' as const, wide: true },
  { header: 'Items', render: (j: Job) => itemCount(j).toLocaleString(), fit: 'nowrap' as const, numeric: true },
];
