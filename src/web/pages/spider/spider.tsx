/** A spider: run it, its jobs, settings, triggers and webhook. */
import { useState } from 'preact/hooks';
import { api, seg } from '../../api/client';
import { lastSegment, projectHref } from '../../api/names';
import type { Spider } from '../../api/types';
import { Page } from '../../components/page';
import { Badge } from '../../components/state-badge';
import { Loaded } from '../../components/status';
import { useApi } from '../../components/use-api';
import type { RouteProps } from '../../router';
import { SpiderJobs } from './jobs-table';
import { RunForm } from './run-form';
import { SettingsForm } from './settings-form';
import { Triggers } from './triggers';
import { WebhookSection } from './webhook';

export function SpiderPage(props: RouteProps) {
  const p = props.params.project!;
  const s = props.params.spider!;
  const path = `/v1/projects/${seg(p)}/spiders/${seg(s)}`;
  const spider = useApi((signal) => api.get<Spider>(path, { signal }), [path]);
  const [runs, setRuns] = useState(0);
  return (
    <Page
      title={s}
      subtitle={
        <>
          Spider of <a href={projectHref(p)} class="break-anywhere">{p}</a>
        </>
      }
    >
      <Loaded state={spider}>
        {(data) => (
          <>
            <dl class="facts">
              <dt>Status</dt>
              <dd class="status-line">
                {data.missing ? <Badge tone="warning">missing</Badge> : <Badge tone="success">in the latest version</Badge>}
                {data.settings?.disabled && <Badge tone="danger">disabled</Badge>}
              </dd>
              <dt>Latest version</dt>
              <dd class="break-anywhere">{lastSegment(data.latestVersion) || '—'}</dd>
            </dl>
            {data.settings?.disabled && (
              <p class="notice notice-warning" role="status">
                This spider is disabled: runs are refused and its triggers’ fires are skipped. Turn it on again under Settings.
              </p>
            )}
            {data.missing && (
              <p class="notice notice-warning" role="status">
                The latest version of {p} has no spider “{s}”: it cannot run until a version has it again.
              </p>
            )}
            <RunForm path={path} project={p} onRun={() => setRuns((n) => n + 1)} />
            <SpiderJobs path={path} changed={runs} />
            <SettingsForm path={path} spider={data} onSaved={spider.reload} />
            <Triggers path={path} />
            <WebhookSection path={path} />
          </>
        )}
      </Loaded>
    </Page>
  );
}
