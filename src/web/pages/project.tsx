/** One project: its spiders (latest version; missing ones marked), upload a version, versions with delete, delete the project. */
import { useState } from 'preact/hooks';
import { api, resourcePath, seg } from '../api/client';
import { byteSize, lastSegment, spiderHref } from '../api/names';
import type { ListSpidersResponse, ListVersionsResponse, Project, Spider, Version } from '../api/types';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Ellipsis } from '../components/data-table';
import { useNotice } from '../components/notice';
import { Page, Section } from '../components/page';
import { PagedTable } from '../components/paged-table';
import { usePageTokens } from '../components/pagination';
import { RelativeTime } from '../components/relative-time';
import { Badge } from '../components/state-badge';
import { Loaded } from '../components/status';
import { useApi } from '../components/use-api';
import { navigate, type RouteProps } from '../router';
import { UploadVersion } from './upload-version';

export function ProjectPage(props: RouteProps) {
  const p = props.params.project!;
  const { notify } = useNotice();
  const project = useApi((signal) => api.get<Project>(`/v1/projects/${seg(p)}`, { signal }), [p]);
  const [deleting, setDeleting] = useState(false);
  const [changed, setChanged] = useState(0);
  const refresh = () => {
    project.reload();
    setChanged((n) => n + 1);
  };

  async function deleteProject() {
    await api.del(`/v1/projects/${seg(p)}`);
    notify(`Project ${p} deleted.`);
    setDeleting(false);
    navigate('/ui/projects');
  }

  return (
    <Page
      title={p}
      subtitle={<a href="/ui/projects">← All projects</a>}
      actions={
        <button type="button" class="button button-danger" onClick={() => setDeleting(true)}>
          Delete project
        </button>
      }
    >
      <Loaded state={project}>
        {(data) => (
          <dl class="facts">
            <dt>Owner</dt>
            <dd class="break-anywhere">{lastSegment(data.owner) || '—'}</dd>
            <dt>Latest version</dt>
            <dd class="break-anywhere">{data.latestVersion ? lastSegment(data.latestVersion) : 'none yet: upload an egg below'}</dd>
            <dt>Created</dt>
            <dd>
              <RelativeTime time={data.createTime} />
            </dd>
          </dl>
        )}
      </Loaded>
      <Spiders project={p} latest={project.data?.latestVersion} changed={changed} />
      <Section title="Upload a version">
        <UploadVersion project={p} onUploaded={refresh} />
      </Section>
      <Versions project={p} latest={project.data?.latestVersion} changed={changed} onDeleted={refresh} />
      <ConfirmDialog open={deleting} title="Delete project?" confirmLabel="Delete project" danger onConfirm={deleteProject} onCancel={() => setDeleting(false)}>
        <p class="break-anywhere">
          “{p}” goes with all its versions, spiders, triggers, webhooks and jobs (logs and items included). This cannot be undone.
        </p>
      </ConfirmDialog>
    </Page>
  );
}

function Spiders(props: { project: string; latest: string | undefined; changed: number }) {
  const pages = usePageTokens();
  const spiders = useApi(
    (signal) => api.get<ListSpidersResponse>(`/v1/projects/${seg(props.project)}/spiders`, { query: { pageSize: 100, pageToken: pages.token }, signal }),
    [props.project, pages.token, props.changed],
  );
  // ListSpiders has the latest version's spiders; those only older versions have are "missing" (they keep settings and jobs).
  const versions = useApi(
    (signal) => api.get<ListVersionsResponse>(`/v1/projects/${seg(props.project)}/versions`, { query: { pageSize: 1000 }, signal }),
    [props.project, props.changed],
  );
  const missing = missingSpiders(versions.data?.versions ?? [], props.latest);
  return (
    <Section title="Spiders">
      <PagedTable
        state={spiders}
        pages={pages}
        caption="Spiders"
        rows={(data) => [...(data.spiders ?? []), ...(data.nextPageToken ? [] : missing)]}
        rowKey={(s) => s.name}
        empty="No spiders yet: upload an egg of the project."
        columns={[
          { header: 'Spider', render: (s) => <Ellipsis text={lastSegment(s.name)} href={spiderHref(props.project, lastSegment(s.name))} /> },
          {
            header: 'Status',
            fit: 'nowrap',
            render: (s) =>
              s.missing ? (
                <span title="Not in the latest version: it cannot run until a version has it again.">
                  <Badge tone="warning">missing</Badge>
                </span>
              ) : s.settings?.disabled ? (
                <Badge tone="muted">disabled</Badge>
              ) : (
                <Badge tone="success">ready</Badge>
              ),
          },
          { header: 'Version', render: (s) => lastSegment(s.latestVersion) || '—', wide: true },
        ]}
      />
    </Section>
  );
}

/** Spiders of older versions that the latest one lacks, as rows marked missing. */
/** Spiders of older versions that the latest version (`latest`, its name) does not have. */
function missingSpiders(versions: readonly Version[], latest: string | undefined): Spider[] {
  const newest = versions.find((v) => v.name === latest);
  if (!newest) return []; // not loaded yet (or no version): nothing to compare with
  const present = new Set(newest.spiders ?? []);
  const out = new Map<string, Spider>();
  for (const v of versions) {
    for (const name of v.spiders ?? []) {
      if (!present.has(name)) out.set(name, { name: `${v.name.split('/versions/')[0]}/spiders/${name}`, latestVersion: v.name, missing: true });
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function Versions(props: { project: string; latest: string | undefined; changed: number; onDeleted: () => void }) {
  const { notify } = useNotice();
  const pages = usePageTokens();
  const versions = useApi(
    (signal) => api.get<ListVersionsResponse>(`/v1/projects/${seg(props.project)}/versions`, { query: { pageSize: 50, pageToken: pages.token }, signal }),
    [props.project, pages.token, props.changed],
  );
  const [victim, setVictim] = useState<Version | undefined>(undefined);

  async function deleteVersion() {
    if (!victim) return;
    await api.del(resourcePath(victim.name));
    notify(`Version ${lastSegment(victim.name)} deleted.`);
    setVictim(undefined);
    props.onDeleted();
  }

  return (
    <Section title="Versions">
      <p class="muted">Oldest first; the newest upload is the latest version, the one runs use unless they name another.</p>
      <PagedTable
        state={versions}
        pages={pages}
        caption="Versions"
        rows={(data) => data.versions}
        rowKey={(v) => v.name}
        empty="No versions yet."
        columns={[
          {
            header: 'Version',
            render: (v) => (
              <span class="cell-with-badge">
                <Ellipsis text={lastSegment(v.name)} />
                {v.name === props.latest && <Badge tone="info">latest</Badge>}
              </span>
            ),
          },
          { header: 'Spiders', fit: 'wrap', render: (v) => (v.spiders ?? []).join(', ') || <span class="muted">none</span> },
          { header: 'Uploaded', render: (v) => <RelativeTime time={v.createTime} />, fit: 'nowrap' },
          { header: 'Size', render: (v) => byteSize(v.eggSizeBytes), numeric: true, fit: 'nowrap', wide: true },
          { header: 'By', render: (v) => lastSegment(v.creator) || '—', wide: true },
          {
            header: 'Actions',
            fit: 'nowrap',
            render: (v) => (
              <button type="button" class="button button-small button-danger" aria-label={`Delete version ${lastSegment(v.name)}`} onClick={() => setVictim(v)}>
                Delete
              </button>
            ),
          },
        ]}
      />
      <ConfirmDialog open={victim !== undefined} title="Delete version?" confirmLabel="Delete version" danger onConfirm={deleteVersion} onCancel={() => setVictim(undefined)}>
        <p class="break-anywhere">
          Version “{victim && lastSegment(victim.name)}” of {props.project} is deleted. If it is the latest, the version uploaded before it becomes the
          latest. This cannot be undone.
        </p>
      </ConfirmDialog>
    </Section>
  );
}
