/**
 * One job: its state and facts, arguments and settings, Scrapy stats, the
 * webhook delivery, a live log tail, a preview of its items with downloads
 * (JSON lines, JSON, CSV), and Cancel while it is pending or running. The
 * job is polled while it is active; the log follows until it ends.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client';
import { readItems } from '../api/job-files';
import { isActive, itemCount, jobApiPath, jobHref, nodeId } from '../api/job-names';
import type { Job, WebhookDelivery } from '../api/types';
import { ConfirmDialog } from '../components/confirm-dialog';
import { DataTable, Ellipsis } from '../components/data-table';
import { LogTail } from '../components/log-tail';
import { useNotice } from '../components/notice';
import { Page, Section } from '../components/page';
import { duration, RelativeTime } from '../components/relative-time';
import { Badge, StateBadge } from '../components/state-badge';
import { Empty, ErrorBox, Loaded, Loading } from '../components/status';
import { useApi } from '../components/use-api';
import { pathSeg, type RouteProps } from '../router';
import { jobsHref } from './jobs';

const POLL_MS = 2000;
const PREVIEW_ITEMS = 50;
const PREVIEW_COLUMNS = 12;
const CELL_CHARS = 200;

export function JobPage(props: RouteProps) {
  const { project, spider, job: key } = props.params as { project: string; spider: string; job: string };
  const path = jobApiPath(project, spider, key);
  const job = useApi((signal) => api.get<Job>(path, { signal }), [path]);
  const active = isActive(job.data?.state);
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(job.reload, POLL_MS);
    return () => window.clearInterval(timer);
  }, [active, job.reload]);

  return (
    <Page
      title={`Job ${key}`}
      subtitle={
        <>
          <a href={`/ui/projects/${pathSeg(project)}`} class="break-anywhere">
            {project}
          </a>{' '}
          /{' '}
          <a href={jobsHref({ project, spider })} class="break-anywhere">
            {spider}
          </a>
        </>
      }
      actions={job.data && <CancelJob path={path} job={job.data} onDone={job.reload} />}
    >
      <Loaded state={job}>{(data) => <JobDetails job={data} />}</Loaded>
    </Page>
  );
}

function CancelJob(props: { path: string; job: Job; onDone: () => void }) {
  const { notify } = useNotice();
  const [open, setOpen] = useState(false);
  if (props.job.state !== 'PENDING' && props.job.state !== 'RUNNING') return null;
  async function cancel() {
    await api.post(`${props.path}:cancel`, {});
    setOpen(false);
    notify('Cancel requested.');
    props.onDone();
  }
  return (
    <>
      <button type="button" class="button button-danger" onClick={() => setOpen(true)}>
        Cancel job
      </button>
      <ConfirmDialog open={open} title="Cancel this job?" confirmLabel="Cancel job" danger onConfirm={cancel} onCancel={() => setOpen(false)}>
        <p>
          {props.job.state === 'PENDING'
            ? 'It leaves the queue and will not run.'
            : 'Its agent stops the crawl (SIGINT, so Scrapy closes cleanly); items so far are kept.'}
        </p>
      </ConfirmDialog>
    </>
  );
}

function JobDetails(props: { job: Job }) {
  const j = props.job;
  const active = isActive(j.state);
  return (
    <>
      <dl class="facts job-facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={j.state} /> {j.warning && <Badge tone="warning">Warnings in log</Badge>}
        </dd>
        <dt>Node</dt>
        <dd>{j.node ? <a href={jobsHref({ node: nodeId(j.node) })}>{j.node}</a> : <span class="muted">not assigned</span>}</dd>
        <dt>Version</dt>
        <dd class="break-anywhere">{j.version?.split('/').pop() ?? '—'}</dd>
        <dt>Created</dt>
        <dd>
          <RelativeTime time={j.createTime} />
        </dd>
        <dt>Started</dt>
        <dd>
          <RelativeTime time={j.startTime} never="not yet" />
        </dd>
        <dt>{j.endTime ? 'Ended' : 'Running for'}</dt>
        <dd>
          {j.endTime ? (
            <>
              <RelativeTime time={j.endTime} /> <span class="muted">(took {duration(j.startTime ?? j.createTime, j.endTime)})</span>
            </>
          ) : j.startTime ? (
            duration(j.startTime)
          ) : (
            '—'
          )}
        </dd>
        <dt>Attempt</dt>
        <dd>
          {j.attempt ?? 1}
          {j.retryOf && (
            <>
              {' '}
              · retries <a href={jobHref(j.retryOf)}>{j.retryOf.split('/').pop()}</a>
            </>
          )}
        </dd>
        {j.trigger && (
          <>
            <dt>Trigger</dt>
            <dd class="break-anywhere">{j.trigger.split('/').pop()}</dd>
          </>
        )}
        <dt>Priority</dt>
        <dd>{j.priority ?? 0}</dd>
        <dt>Items</dt>
        <dd>{itemCount(j).toLocaleString()}</dd>
        {!active && j.state !== 'CANCELLED' && j.startTime && (
          <>
            <dt>Exit code</dt>
            <dd>{j.exitCode ?? 0}</dd>
          </>
        )}
        {j.closeReason && (
          <>
            <dt>Close reason</dt>
            <dd class="break-anywhere">{j.closeReason}</dd>
          </>
        )}
        {j.pid ? (
          <>
            <dt>PID</dt>
            <dd>{j.pid}</dd>
          </>
        ) : null}
      </dl>
      <Section title="Log">
        {j.logUrl ? <LogTail logUrl={j.logUrl} follow={active} lineCountHint={Number(j.logLineCount ?? 0)} /> : <Empty>No log.</Empty>}
      </Section>
      <Section title="Items">
        <ItemsPreview job={j} />
      </Section>
      <Section title="Arguments and settings">
        <KeyValues caption="Arguments" empty="No spider arguments." values={j.args} />
        <KeyValues caption="Scrapy settings" empty="No Scrapy settings for this job." values={j.scrapySettings} />
      </Section>
      <Section title="Stats">
        <Stats json={j.statsJson} active={active} />
      </Section>
      {j.webhookDelivery && (
        <Section title="Webhook delivery">
          <Delivery d={j.webhookDelivery} />
        </Section>
      )}
    </>
  );
}

function KeyValues(props: { caption: string; empty: string; values: Record<string, string> | undefined }) {
  const rows = Object.entries(props.values ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div class="key-values">
      <h3>{props.caption}</h3>
      <DataTable<[string, string]>
        caption={props.caption}
        rows={rows}
        rowKey={(r) => r[0]}
        empty={props.empty}
        columns={[
          { header: 'Name', render: (r) => r[0] },
          { header: 'Value', render: (r) => r[1], fit: 'wrap' },
        ]}
      />
    </div>
  );
}

/** Scrapy's final stats as a table, sorted by name. */
function Stats(props: { json: string | undefined; active: boolean }) {
  if (!props.json) return <Empty>{props.active ? 'Scrapy reports its stats when the crawl ends.' : 'No stats were reported.'}</Empty>;
  let stats: Record<string, unknown>;
  try {
    stats = JSON.parse(props.json) as Record<string, unknown>;
  } catch {
    return <ErrorBox error={new Error('The stats are not valid JSON.')} />;
  }
  const rows = Object.entries(stats).sort(([a], [b]) => a.localeCompare(b));
  return (
    <DataTable<[string, unknown]>
      caption="Scrapy stats"
      rows={rows}
      rowKey={(r) => r[0]}
      empty="No stats."
      columns={[
        { header: 'Stat', render: (r) => r[0] },
        { header: 'Value', render: (r) => statValue(r[1]), fit: 'wrap', numeric: true },
      ]}
    />
  );
}

function statValue(v: unknown): string {
  if (typeof v === 'number') return v.toLocaleString();
  if (typeof v === 'string') return /^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(Date.parse(v)) ? new Date(v).toLocaleString() : v;
  return JSON.stringify(v);
}

function Delivery(props: { d: WebhookDelivery }) {
  const d = props.d;
  const tone = d.state === 'DONE' ? 'success' : d.state === 'FAILED' ? 'danger' : d.state === 'CANCELLED' ? 'muted' : 'info';
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <Badge tone={tone}>{d.state ?? 'UNKNOWN'}</Badge>
      </dd>
      <dt>Items sent</dt>
      <dd>
        {Number(d.deliveredItems ?? 0).toLocaleString()} of {Number(d.totalItems ?? 0).toLocaleString()}
      </dd>
      <dt>Requests</dt>
      <dd>{d.attempts ?? 0}</dd>
      {d.payloadUrl && (
        <>
          <dt>URL</dt>
          <dd class="break-anywhere">{d.payloadUrl}</dd>
        </>
      )}
      {d.lastError && (
        <>
          <dt>Last error</dt>
          <dd class="break-anywhere">{d.lastError}</dd>
        </>
      )}
      {d.nextAttemptTime && (
        <>
          <dt>Next attempt</dt>
          <dd>
            <RelativeTime time={d.nextAttemptTime} />
          </dd>
        </>
      )}
    </dl>
  );
}

/** The first items as a table of their keys, with downloads of all of them. */
function ItemsPreview(props: { job: Job }) {
  const j = props.job;
  const count = itemCount(j);
  const items = useApi((signal) => (j.itemsUrl && count > 0 ? readItems(j.itemsUrl, PREVIEW_ITEMS, signal) : Promise.resolve([])), [j.itemsUrl, Math.min(count, PREVIEW_ITEMS)]);
  if (!j.itemsUrl) return <Empty>No items.</Empty>;
  return (
    <>
      <div class="downloads" role="group" aria-label="Download items">
        <span class="muted">Download all {count.toLocaleString()} items:</span>
        <a class="button button-small" href={`${j.itemsUrl}?format=jsonl`} download>
          JSON lines
        </a>
        <a class="button button-small" href={`${j.itemsUrl}?format=json`} download>
          JSON
        </a>
        <a class="button button-small" href={`${j.itemsUrl}?format=csv`} download>
          CSV
        </a>
      </div>
      {count === 0 ? (
        <Empty>{isActive(j.state) ? 'No items yet.' : 'This job scraped no items.'}</Empty>
      ) : items.data === undefined && !items.error ? (
        <Loading label="Reading items…" />
      ) : (
        <Loaded state={items}>{(rows) => <ItemsTable rows={rows} total={count} />}</Loaded>
      )}
    </>
  );
}

function ItemsTable(props: { rows: Record<string, unknown>[]; total: number }) {
  const keys: string[] = [];
  for (const r of props.rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const shown = keys.slice(0, PREVIEW_COLUMNS);
  const rows = props.rows.map((r, i) => ({ i, r }));
  return (
    <>
      <p class="muted">
        The first {props.rows.length.toLocaleString()} of {props.total.toLocaleString()} items
        {keys.length > shown.length ? `, ${shown.length} of ${keys.length} fields (the downloads have all)` : ''}.
      </p>
      <DataTable<{ i: number; r: Record<string, unknown> }>
        caption="First items"
        rows={rows}
        rowKey={(x) => String(x.i)}
        empty="No items."
        columns={[
          { header: '#', render: (x) => String(x.i + 1), fit: 'nowrap', numeric: true },
          ...shown.map((k) => ({ header: k, render: (x: { r: Record<string, unknown> }) => <Ellipsis text={cell(x.r[k])} /> })),
        ]}
      />
    </>
  );
}

function cell(v: unknown): string {
  const text = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > CELL_CHARS ? `${text.slice(0, CELL_CHARS)}…` : text;
}
