/** All projects the user can see (admins: all): name, owner, latest version, spiders, updated; create one. */
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { lastSegment, projectHref } from '../api/names';
import type { ListProjectsResponse, Project } from '../api/types';
import { Ellipsis } from '../components/data-table';
import { Field, fieldError, FormError, SubmitButton } from '../components/form';
import { Page, Section } from '../components/page';
import { PagedTable } from '../components/paged-table';
import { usePageTokens } from '../components/pagination';
import { RelativeTime } from '../components/relative-time';
import { useApi } from '../components/use-api';
import { useSubmit } from '../components/use-submit';
import { navigate, type RouteProps } from '../router';

export function ProjectsPage(_props: RouteProps) {
  const pages = usePageTokens();
  const projects = useApi((signal) => api.get<ListProjectsResponse>('/v1/projects', { query: { pageSize: 50, pageToken: pages.token }, signal }), [pages.token]);
  return (
    <Page title="Projects">
      <Section title="All projects">
        <PagedTable
          state={projects}
          pages={pages}
          caption="Projects"
          rows={(data) => data.projects}
          rowKey={(p) => p.name}
          empty={
            <>
              No projects yet. Create one below and upload an egg to it, or run <code>scrapydd deploy</code> in a Scrapy project (it creates the project
              with its first upload).
            </>
          }
          columns={[
            { header: 'Name', render: (p) => <Ellipsis text={lastSegment(p.name)} href={projectHref(lastSegment(p.name))} /> },
            { header: 'Owner', render: (p) => lastSegment(p.owner) || '—', wide: true },
            { header: 'Latest version', render: (p) => (p.latestVersion ? lastSegment(p.latestVersion) : <span class="muted">none</span>) },
            { header: 'Spiders', render: (p) => String(p.spiderCount ?? 0), numeric: true, fit: 'nowrap' },
            { header: 'Versions', render: (p) => String(p.versionCount ?? 0), numeric: true, fit: 'nowrap', wide: true },
            { header: 'Updated', render: (p) => <RelativeTime time={p.updateTime} />, fit: 'nowrap', wide: true },
          ]}
        />
      </Section>
      <CreateProject />
    </Page>
  );
}

function CreateProject() {
  const [name, setName] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const project = await api.post<Project>('/v1/projects', {}, { query: { projectId: name.trim() } });
    navigate(projectHref(lastSegment(project.name)));
  });
  return (
    <Section title="New project">
      <form class="inline-form" onSubmit={submit} noValidate>
        <Field label="Project name" hint="Letters, digits, _ . - (at most 100). You upload its eggs on the project’s page." error={fieldError(error, 'project_id')}>
          {(id, d, invalid) => (
            <input id={id} name="projectId" value={name} maxLength={100} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setName(e.currentTarget.value)} />
          )}
        </Field>
        <SubmitButton busy={busy} busyLabel="Creating…">
          Create project
        </SubmitButton>
        <FormError error={error} fields={['project_id']} />
      </form>
    </Section>
  );
}
