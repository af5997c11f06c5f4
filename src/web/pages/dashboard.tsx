/**
 * The home page: jobs pending and running now, finished in the last 24
 * hours, online agents (admins), jobs started and items scraped per hour,
 * and every spider with its last run — all from one GetJobStats call,
 * refreshed every 15 s. A fresh install explains how to begin.
 */
import { useEffect } from 'preact/hooks';
import { api } from '../api/client';
import { itemCount, jobHref } from '../api/job-names';
import { spiderHref } from '../api/names';
import type { JobStats } from '../api/types';
import { DataTable, Ellipsis } from '../components/data-table';
import { HourlyChart } from '../components/hourly-chart';
import { Page, Section } from '../components/page';
import { RelativeTime } from '../components/relative-time';
import { StateBadge } from '../components/state-badge';
import { Loaded } from '../components/status';
import { useApi } from '../components/use-api';
import type { RouteProps } from '../router';
import { useSession } from '../session';
import { jobsHref } from './jobs';

const REFRESH_MS = 15_000;

type SpiderRow = NonNullable<JobStats['spiders']>[number];

export function DashboardPage(_props: RouteProps) {
  const { session } = useSession();
  const stats = useApi((signal) => api.get<JobStats>('/v1/projects/-/spiders/-/jobs:stats', { signal }), []);
  useEffect(() => {
    const timer = window.setInterval(stats.reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [stats.reload]);
  return (
    <Page title="Dashboard" subtitle={<>Signed in as <strong class="break-anywhere">{session.user.name}</strong>{session.user.admin ? ' (admin)' : ''}.</>}>
      <Loaded state={stats}>{(data) => <Overview stats={data} admin={session.user.admin} />}</Loaded>
    </Page>
  );
}

function Overview(props: { stats: JobStats; admin: boolean }) {
  const s = props.stats;
  const n = (v: string | undefined) => Number(v ?? 0);
  const finished = n(s.succeededJobs) + n(s.failedJobs) + n(s.cancelledJobs) + n(s.lostJobs);
  const failed = n(s.failedJobs) + n(s.lostJobs);
  const spiders = s.spiders ?? [];
  const hours = s.hours ?? [];
  if (spiders.length === 0 && finished === 0 && n(s.pendingJobs) === 0 && n(s.runningJobs) === 0) return <GettingStarted admin={props.admin} onlineNodes={s.onlineNodes} />;
  return (
    <>
      <ul class="stat-cards" aria-label="Job counts">
        <StatCard label="Pending" value={n(s.pendingJobs)} href={jobsHref({ state: 'PENDING' })} />
        <StatCard label="Running" value={n(s.runningJobs)} href={jobsHref({ state: 'RUNNING' })} />
        <StatCard label="Finished (24 h)" value={finished} href={jobsHref({})} note={failed ? `${failed.toLocaleString()} failed or lost` : 'none failed'} />
        {s.onlineNodes !== undefined && <StatCard label="Online nodes" value={s.onlineNodes} href="/ui/nodes" note={s.onlineNodes === 0 ? 'no agent connected' : undefined} />}
      </ul>
      <Section title="Last 24 hours">
        <div class="chart-grid">
          <HourlyChart title="Jobs started per hour" unit="jobs" tone="info" hours={hours.map((h) => ({ startTime: h.startTime, value: n(h.startedJobs) }))} />
          <HourlyChart title="Items scraped per hour" unit="items" tone="success" hours={hours.map((h) => ({ startTime: h.startTime, value: n(h.items) }))} />
        </div>
      </Section>
      <Section title="Spiders">
        <DataTable<SpiderRow>
          caption="Spiders and their last runs"
          rows={spiders}
          rowKey={(r) => r.spider}
          empty="No spiders: deploy a project version that has spiders."
          columns={[
            {
              header: 'Project / spider',
              render: (r) => {
                const [, project = '', , spider = ''] = r.spider.split('/');
                return <Ellipsis text={`${project} / ${spider}`} href={spiderHref(project, spider)} />;
              },
            },
            { header: 'Last run', render: (r) => (r.lastJob ? <StateBadge state={r.lastJob.state} /> : <span class="muted">never ran</span>), fit: 'nowrap' },
            {
              header: 'When',
              render: (r) => (r.lastJob ? <a href={jobHref(r.lastJob.name)}><RelativeTime time={r.lastJob.startTime ?? r.lastJob.createTime} /></a> : '—'),
              fit: 'nowrap',
            },
            { header: 'Items', render: (r) => (r.lastJob ? itemCount(r.lastJob).toLocaleString() : '—'), fit: 'nowrap', numeric: true, wide: true },
            {
              header: 'Next trigger',
              render: (r) => (r.nextFireTime ? <RelativeTime time={r.nextFireTime} /> : <span class="muted">none</span>),
              fit: 'nowrap',
            },
          ]}
        />
        {spiders.length >= 500 && <p class="muted">The first 500 spiders are shown.</p>}
      </Section>
    </>
  );
}

function StatCard(props: { label: string; value: number; href: string; note?: string }) {
  return (
    <li class="stat-card">
      <a href={props.href}>
        <span class="stat-value">{props.value.toLocaleString()}</span>
        <span class="stat-label">{props.label}</span>
        {props.note && <span class="stat-note muted">{props.note}</span>}
      </a>
    </li>
  );
}

function GettingStarted(props: { admin: boolean; onlineNodes: number | undefined }) {
  const origin = window.location.origin;
  return (
    <Section title="Nothing here yet">
      <p>scrapydd runs Scrapy spiders on agents. To get the first job going:</p>
      <ol class="steps">
        <li>
          <strong>Deploy a project.</strong> From your Scrapy project, with <code>scrapyd-deploy</code> pointed at <code class="break-anywhere">{origin}</code>, or build
          an egg and upload it:
          <pre class="command break-anywhere">curl -u USER:PASSWORD {origin}/addversion.json -F project=myproject -F version=r1 -F egg=@myproject.egg</pre>
        </li>
        <li>
          <strong>Start an agent</strong> on a worker machine{props.admin ? '' : ' (ask an admin)'}:{' '}
          {props.admin ? (
            <>
              make a node key with <code>scrapydd nodekey create</code>, then run <code>scrapydd agent -g</code> there once to register and{' '}
              <code>scrapydd agent</code> afterwards.
            </>
          ) : (
            'agents register with a node key an admin makes.'
          )}
          {props.onlineNodes !== undefined && <> Agents online now: {props.onlineNodes}.</>}
        </li>
        <li>
          <strong>Run a spider</strong> from its project page, or <code>curl -u USER:PASSWORD {origin}/schedule.json -d project=myproject -d spider=myspider</code>.
        </li>
      </ol>
      <p>
        <a href="/ui/projects">Projects</a> · <a href="/ui/jobs">Jobs</a>
      </p>
    </Section>
  );
}
