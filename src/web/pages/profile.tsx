/** The signed-in user's own page: name and role, API keys (create, secret shown once, revoke), password change. */
import { useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import type { ApiKey, ListApiKeysResponse } from '../api/types';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyButton } from '../components/copy-button';
import { Field, fieldError, FormError, SubmitButton } from '../components/form';
import { useNotice } from '../components/notice';
import { Page, Section } from '../components/page';
import { PagedTable } from '../components/paged-table';
import { usePageTokens } from '../components/pagination';
import { RelativeTime } from '../components/relative-time';
import { Empty } from '../components/status';
import { useApi } from '../components/use-api';
import { useSubmit } from '../components/use-submit';
import type { RouteProps } from '../router';
import { useSession } from '../session';

export function ProfilePage(_props: RouteProps) {
  const { session } = useSession();
  return (
    <Page title="Profile">
      <dl class="facts">
        <dt>User name</dt>
        <dd class="break-anywhere">{session.user.name}</dd>
        <dt>Role</dt>
        <dd>{session.user.admin ? 'Admin' : 'User'}</dd>
      </dl>
      {session.authenticationEnabled ? (
        <>
          <ApiKeys user={session.user.name} />
          <PasswordChange user={session.user.name} />
        </>
      ) : (
        <Empty>Authentication is off on this server (enable_authentication = false): there are no accounts, API keys or passwords.</Empty>
      )}
    </Page>
  );
}

function ApiKeys(props: { user: string }) {
  const { notify } = useNotice();
  const pages = usePageTokens();
  const path = `/v1/users/${seg(props.user)}/apiKeys`;
  const keys = useApi((signal) => api.get<ListApiKeysResponse>(path, { query: { pageSize: 20, pageToken: pages.token }, signal }), [path, pages.token]);
  const [created, setCreated] = useState<ApiKey | undefined>(undefined);
  const [victim, setVictim] = useState<ApiKey | undefined>(undefined);

  async function revoke() {
    if (!victim) return;
    await api.del(`/v1/${victim.name.split('/').map(seg).join('/')}`);
    notify(`API key "${victim.displayName || keyId(victim)}" revoked.`);
    setVictim(undefined);
    if (created?.name === victim.name) setCreated(undefined);
    keys.reload();
  }

  return (
    <Section title="API keys">
      <p class="muted">
        An API key acts as you: <code>Authorization: Bearer &lt;secret&gt;</code> for the REST and scrapyd APIs, or HTTP Basic with the key id as user
        name.
      </p>
      <CreateApiKey
        path={path}
        onCreated={(key) => {
          setCreated(key);
          keys.reload();
        }}
      />
      {created?.secret && (
        <div class="notice notice-warning secret-once" role="status">
          <p>
            <strong>Copy the secret of “{created.displayName || keyId(created)}” now.</strong> It is shown only this once; scrapydd keeps only a hash of it.
          </p>
          <div class="secret-row">
            <code class="secret" data-testid="api-key-secret">
              {created.secret}
            </code>
            <CopyButton text={created.secret} />
          </div>
          <button type="button" class="button button-small" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      )}
      <PagedTable
        state={keys}
        pages={pages}
        caption="API keys"
        rows={(data) => data.apiKeys}
        rowKey={(k) => k.name}
        empty="No API keys yet."
        columns={[
          { header: 'Name', render: (k) => k.displayName || '(no name)' },
          { header: 'Key id', render: (k) => keyId(k), fit: 'nowrap', wide: true },
          { header: 'Created', render: (k) => <RelativeTime time={k.createTime} />, fit: 'nowrap' },
          { header: 'Last used', render: (k) => <RelativeTime time={k.lastUseTime} never="never" />, fit: 'nowrap', wide: true },
          {
            header: 'Actions',
            fit: 'nowrap',
            render: (k) => (
              <button type="button" class="button button-small button-danger" onClick={() => setVictim(k)} aria-label={`Revoke ${k.displayName || keyId(k)}`}>
                Revoke
              </button>
            ),
          },
        ]}
      />
      <ConfirmDialog open={victim !== undefined} title="Revoke API key?" confirmLabel="Revoke" danger onConfirm={revoke} onCancel={() => setVictim(undefined)}>
        <p class="break-anywhere">
          Programs using “{victim?.displayName || (victim && keyId(victim))}” will be refused from now on. This cannot be undone.
        </p>
      </ConfirmDialog>
    </Section>
  );
}

function CreateApiKey(props: { path: string; onCreated: (key: ApiKey) => void }) {
  const [name, setName] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const key = await api.post<ApiKey>(props.path, { displayName: name.trim() });
    setName('');
    props.onCreated(key);
  });
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <Field label="New key’s name" hint="What uses it, e.g. “deploy from CI”." error={fieldError(error, 'display_name')}>
        {(id, describedBy, invalid) => (
          <input id={id} name="displayName" maxLength={200} value={name} aria-invalid={invalid} aria-describedby={describedBy} onInput={(e) => setName(e.currentTarget.value)} />
        )}
      </Field>
      <SubmitButton busy={busy} busyLabel="Creating…">
        Create API key
      </SubmitButton>
      <FormError error={error} fields={['display_name']} />
    </form>
  );
}

function PasswordChange(props: { user: string }) {
  const { notify } = useNotice();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const { busy, error, setError, submit: change } = useSubmit(async () => {
    await api.post(`/v1/users/${seg(props.user)}:changePassword`, { currentPassword: current, newPassword: next });
    setCurrent('');
    setNext('');
    setRepeat('');
    notify('Password changed. Your other sessions were signed out.');
  });
  const mismatch = repeat !== '' && next !== repeat;

  function submit(event: Event) {
    event.preventDefault();
    if (next !== repeat) return setError(new Error('The new passwords do not match.'));
    void change();
  }
  return (
    <Section title="Change password">
      <form class="stack-form" onSubmit={submit} noValidate>
        <Field label="Current password" error={fieldError(error, 'current_password')}>
          {(id, d, invalid) => (
            <input id={id} name="currentPassword" type="password" autocomplete="current-password" value={current} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setCurrent(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="New password" error={fieldError(error, 'new_password')}>
          {(id, d, invalid) => (
            <input id={id} name="newPassword" type="password" autocomplete="new-password" value={next} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setNext(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="New password again" error={mismatch ? 'Does not match the new password.' : undefined}>
          {(id, d, invalid) => (
            <input id={id} name="repeatPassword" type="password" autocomplete="new-password" value={repeat} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setRepeat(e.currentTarget.value)} />
          )}
        </Field>
        <FormError error={error} fields={['current_password', 'new_password']} />
        <SubmitButton busy={busy} busyLabel="Changing…">
          Change password
        </SubmitButton>
      </form>
    </Section>
  );
}

function keyId(k: ApiKey): string {
  return k.name.split('/').pop() ?? k.name;
}
