/**
 * Admins: a read-only overview of this server — version, database, uptime,
 * and every [server] key of scrapydd.conf with its effective value, whether
 * it is the default, and where it was set. Passwords are never sent here.
 */
import { api } from '../../api/client';
import type { ServerInfo, ServerSetting } from '../../api/types';
import { DataTable } from '../../components/data-table';
import { Page, Section } from '../../components/page';
import { duration } from '../../components/relative-time';
import { Badge } from '../../components/state-badge';
import { Loaded } from '../../components/status';
import { useApi } from '../../components/use-api';
import type { RouteProps } from '../../router';

export function SettingsPage(_props: RouteProps) {
  const info = useApi((signal) => api.get<ServerInfo>('/v1/server', { signal }), []);
  return (
    <Page
      title="Server settings"
      subtitle="Read-only: change them in scrapydd.conf (or SCRAPYDD_* variables) and restart the server. See docs/configuration.md."
      actions={
        <button type="button" class="button button-small" onClick={info.reload} disabled={info.loading}>
          Refresh
        </button>
      }
    >
      <Loaded state={info}>
        {(data) => (
          <>
            <dl class="facts">
              <dt>Version</dt>
              <dd>{data.version ?? '—'}</dd>
              <dt>Database</dt>
              <dd>{data.databaseKind === 'postgres' ? 'PostgreSQL' : data.databaseKind === 'sqlite' ? 'SQLite' : (data.databaseKind ?? '—')}</dd>
              <dt>Started</dt>
              <dd>{data.startTime ? new Date(data.startTime).toLocaleString() : '—'}</dd>
              <dt>Uptime</dt>
              <dd data-testid="uptime">{data.startTime && data.currentTime ? duration(data.startTime, data.currentTime) : '—'}</dd>
            </dl>
            <Section title="[server] configuration">
              <DataTable<ServerSetting>
                caption="Server configuration keys"
                rows={data.settings ?? []}
                rowKey={(s) => s.key}
                empty="The server sent no settings."
                columns={[
                  { header: 'Key', fit: 'nowrap', render: (s) => <code>{s.key}</code> },
                  { header: 'Value', fit: 'wrap', render: (s) => <SettingValue setting={s} /> },
                  {
                    header: 'Set by',
                    fit: 'wrap',
                    render: (s) => (s.isDefault ? <Badge tone="muted">default</Badge> : <span class="break-anywhere small">{s.source ?? 'set'}</span>),
                  },
                  { header: 'Description', fit: 'wrap', wide: true, render: (s) => <span class="muted small">{s.description ?? ''}</span> },
                ]}
              />
            </Section>
          </>
        )}
      </Loaded>
    </Page>
  );
}

function SettingValue(props: { setting: ServerSetting }) {
  const s = props.setting;
  if (s.redacted) return <span class="muted">set (hidden)</span>;
  if (!s.value) return <span class="muted">{s.isDefault ? 'not set' : '(empty)'}</span>;
  return (
    <span class="setting-value">
      <code class="break-anywhere">{s.value}</code>
      {!s.isDefault && (s.defaultValue ?? '') !== s.value && <span class="muted small"> (default: {s.defaultValue || 'not set'})</span>}
    </span>
  );
}
