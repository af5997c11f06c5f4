/** One trigger's fire history: each fire time (in the trigger's zone), what happened, why, and its job. */
import { api } from '../../api/client';
import { jobHref, lastSegment } from '../../api/names';
import type { ListTriggerFiresResponse, Trigger } from '../../api/types';
import { PagedTable } from '../../components/paged-table';
import { usePageTokens } from '../../components/pagination';
import { RelativeTime } from '../../components/relative-time';
import { Badge } from '../../components/state-badge';
import { useApi } from '../../components/use-api';
import { formatInZone } from './cron-preview';
import { OUTCOMES } from './trigger-outcomes';

/** `onRefresh` reloads the trigger list too, so its "Last fire" agrees with the history. */
export function TriggerHistory(props: { trigger: Trigger; onClose: () => void; onRefresh: () => void }) {
  const t = props.trigger;
  const zone = t.timeZone || 'UTC';
  const pages = usePageTokens();
  const fires = useApi(
    (signal) => api.get<ListTriggerFiresResponse>(`/v1/${t.name}/fires`, { query: { pageSize: 20, pageToken: pages.token }, signal }),
    [t.name, pages.token],
  );
  return (
    <section class="trigger-history" aria-label={`Fire history of trigger ${t.cron}`}>
      <header class="section-header">
        <h3 class="break-anywhere">
          History of “{t.cron}” <span class="muted">({zone})</span>
        </h3>
        <div class="page-actions">
          <button
            type="button"
            class="button button-small"
            onClick={() => {
              fires.reload();
              props.onRefresh();
            }}
          >
            Refresh
          </button>
          <button type="button" class="button button-small" onClick={props.onClose}>
            Close
          </button>
        </div>
      </header>
      <PagedTable
        state={fires}
        pages={pages}
        caption="Fire history"
        rows={(data) => data.fires}
        rowKey={(f) => f.fireTime}
        empty="It has not fired yet. Each fire time is listed here (kept 30 days, and the last 100 always)."
        columns={[
          { header: 'Fire time', fit: 'nowrap', render: (f) => <time dateTime={f.fireTime}>{formatInZone(new Date(f.fireTime), zone)}</time> },
          { header: 'Handled', fit: 'nowrap', wide: true, render: (f) => <RelativeTime time={f.handleTime} /> },
          {
            header: 'Outcome',
            fit: 'nowrap',
            render: (f) => {
              const o = f.outcome ? OUTCOMES[f.outcome] : undefined;
              return o ? <Badge tone={o.tone}>{o.label}</Badge> : <span class="muted">—</span>;
            },
          },
          {
            header: 'Job or reason',
            fit: 'wrap',
            render: (f) =>
              f.job ? (
                <a href={jobHref(f.job)}>{lastSegment(f.job)}</a>
              ) : (
                <span class="muted break-anywhere">{f.reason || (f.outcome === 'QUEUED' ? 'job pruned since' : '—')}</span>
              ),
          },
        ]}
      />
    </section>
  );
}
