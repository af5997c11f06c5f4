/** Admins: every user account — create one, make or remove admins, disable or enable sign-in. */
import { useState } from 'preact/hooks';
import { api, seg } from '../../api/client';
import type { ListUsersResponse, User } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { Field, fieldError, FormError, SubmitButton } from '../../components/form';
import { useNotice } from '../../components/notice';
import { Page, Section } from '../../components/page';
import { PagedTable } from '../../components/paged-table';
import { usePageTokens } from '../../components/pagination';
import { RelativeTime } from '../../components/relative-time';
import { Badge } from '../../components/state-badge';
import { Empty } from '../../components/status';
import { useApi } from '../../components/use-api';
import { useSubmit } from '../../components/use-submit';
import type { RouteProps } from '../../router';
import { useSession } from '../../session';

/** A change the admin confirms first. */
interface Change {
  user: User;
  field: 'admin' | 'disabled';
  value: boolean;
}

export function UsersPage(_props: RouteProps) {
  const { session } = useSession();
  const { notify } = useNotice();
  const pages = usePageTokens();
  const users = useApi((signal) => api.get<ListUsersResponse>('/v1/users', { query: { pageSize: 50, pageToken: pages.token }, signal }), [pages.token]);
  const [change, setChange] = useState<Change | undefined>(undefined);

  if (!session.authenticationEnabled) {
    return (
      <Page title="Users">
        <Empty>Authentication is off on this server (enable_authentication = false): there are no user accounts.</Empty>
      </Page>
    );
  }

  async function apply() {
    if (!change) return;
    const name = userName(change.user);
    await api.patch<User>(`/v1/users/${seg(name)}`, { [change.field]: change.value }, { query: { updateMask: change.field } });
    notify(describe(change, 'done'));
    setChange(undefined);
    users.reload();
  }

  return (
    <Page title="Users" subtitle="Accounts that sign in to the web UI and the APIs. Admins see every project and manage nodes and users.">
      <Section title="New user">
        <CreateUser onCreated={(u) => (notify(`User “${userName(u)}” created.`), users.reload())} />
      </Section>
      <Section title="All users">
        <PagedTable
          state={users}
          pages={pages}
          caption="Users"
          rows={(data) => data.users}
          rowKey={(u) => u.name}
          empty="No users yet."
          columns={[
            { header: 'Name', render: (u) => userName(u) },
            { header: 'Role', fit: 'nowrap', render: (u) => (u.admin ? <Badge tone="info">Admin</Badge> : <span class="muted">User</span>) },
            { header: 'Status', fit: 'nowrap', render: (u) => (u.disabled ? <Badge tone="danger">Disabled</Badge> : <Badge tone="success">Active</Badge>) },
            { header: 'Created', fit: 'nowrap', wide: true, render: (u) => <RelativeTime time={u.createTime} /> },
            {
              header: 'Actions',
              fit: 'nowrap',
              render: (u) => {
                const name = userName(u);
                if (name === session.user.name) return <span class="muted">You</span>;
                return (
                  <div class="row-actions">
                    <button type="button" class="button button-small" aria-label={`${u.admin ? 'Remove admin from' : 'Make admin'} ${name}`} onClick={() => setChange({ user: u, field: 'admin', value: !u.admin })}>
                      {u.admin ? 'Remove admin' : 'Make admin'}
                    </button>
                    <button
                      type="button"
                      class={`button button-small${u.disabled ? '' : ' button-danger'}`}
                      aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${name}`}
                      onClick={() => setChange({ user: u, field: 'disabled', value: !u.disabled })}
                    >
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                  </div>
                );
              },
            },
          ]}
        />
      </Section>
      <ConfirmDialog
        open={change !== undefined}
        title={change ? describe(change, 'title') : ''}
        confirmLabel={change ? describe(change, 'button') : 'OK'}
        danger={change !== undefined && (change.field === 'disabled' ? change.value : !change.value)}
        onConfirm={apply}
        onCancel={() => setChange(undefined)}
      >
        <p class="break-anywhere">{change && describe(change, 'body')}</p>
      </ConfirmDialog>
    </Page>
  );
}

function CreateUser(props: { onCreated: (u: User) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const { busy, error, submit } = useSubmit(async () => {
    const user = await api.post<User>('/v1/users', { password, admin }, { query: { userId: name.trim() } });
    setName('');
    setPassword('');
    setAdmin(false);
    props.onCreated(user);
  });
  return (
    <form class="stack-form" onSubmit={submit} noValidate>
      <Field label="User name" hint="Letters, digits, _ . - (up to 64)." error={fieldError(error, 'user_id')}>
        {(id, d, invalid) => (
          <input id={id} name="userId" autocomplete="off" maxLength={64} value={name} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setName(e.currentTarget.value)} />
        )}
      </Field>
      <Field label="Password" hint="They can change it on their profile page." error={fieldError(error, 'password')}>
        {(id, d, invalid) => (
          <input id={id} name="password" type="password" autocomplete="new-password" value={password} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setPassword(e.currentTarget.value)} />
        )}
      </Field>
      <div class="field field-checkbox">
        <label>
          <input type="checkbox" name="admin" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> Admin (sees every project, manages nodes and users)
        </label>
      </div>
      <FormError error={error} fields={['user_id', 'password']} />
      <SubmitButton busy={busy} busyLabel="Creating…">
        Create user
      </SubmitButton>
    </form>
  );
}

function userName(u: User): string {
  return u.name.replace(/^users\//, '');
}

function describe(c: Change, what: 'title' | 'button' | 'body' | 'done'): string {
  const name = userName(c.user);
  if (c.field === 'admin' && c.value) {
    return { title: 'Make admin?', button: 'Make admin', body: `“${name}” will see and manage every project, node and user.`, done: `“${name}” is an admin now.` }[what];
  }
  if (c.field === 'admin') {
    return { title: 'Remove admin?', button: 'Remove admin', body: `“${name}” will see only their own projects and no admin pages.`, done: `“${name}” is no longer an admin.` }[what];
  }
  if (c.value) {
    return {
      title: 'Disable user?',
      button: 'Disable',
      body: `“${name}” can no longer sign in, and their API keys stop working. Their projects and jobs stay. You can enable the account again.`,
      done: `“${name}” is disabled.`,
    }[what];
  }
  return { title: 'Enable user?', button: 'Enable', body: `“${name}” can sign in again.`, done: `“${name}” is enabled.` }[what];
}
