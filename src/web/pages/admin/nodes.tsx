/**
 * Admins: the worker nodes (online state, tags, slots, running jobs, last
 * heartbeat, address, agent version), renaming and deleting them, and node
 * keys: make one (key and secret shown once, with the command to run on the
 * worker), list and revoke the unused ones.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, seg } from '../../api/client';
import type { ListNodeKeysResponse, ListNodesResponse, Node, NodeKey } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { CopyButton } from '../../components/copy-button';
import { Ellipsis } from '../../components/data-table';
import { Field, fieldError, FormError, SubmitButton } from '../../components/form';
import { useNotice } from '../../components/notice';
import { Page, Section } from '../../components/page';
import { PagedTable } from '../../components/paged-table';
import { usePageTokens } from '../../components/pagination';
import { RelativeTime } from '../../components/relative-time';
import { Badge } from '../../components/state-badge';
import { useApi } from '../../components/use-api';
import { useSubmit } from '../../components/use-submit';
import type { RouteProps } from '../../router';
import { useSession } from '../../session';

const REFRESH_MS = 15_000;

export function NodesPage(_props: RouteProps) {
  const { session } = useSession();
  const { notify } = useNotice();
  const pages = usePageTokens();
  const nodes = useApi((signal) => api.get<ListNodesResponse>('/v1/nodes', { query: { pageSize: 100, pageToken: pages.token }, signal }), [pages.token]);
  const [renaming, setRenaming] = useState<Node | undefined>(undefined);
  const [victim, setVictim] = useState<Node | undefined>(undefined);
  // Node keys are listed again with the nodes: a registration uses one up.
  const [keysTick, setKeysTick] = useState(0);
  const refresh = nodes.reload;
  useEffect(() => {
    // Online state and heartbeats change by themselves: look again now and then.
    const timer = window.setInterval(refresh, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  async function remove() {
    if (!victim) return;
    await api.del(`/v1/nodes/${seg(nodeId(victim))}`);
    notify(`Node “${label(victim)}” deleted.`);
    if (renaming?.name === victim.name) setRenaming(undefined);
    setVictim(undefined);
    nodes.reload();
  }

  return (
    <Page
      title="Nodes"
      subtitle="The worker machines that run jobs. Each runs scrapydd agent and holds one session to a server."
      actions={
        <button type="button" class="button button-small" onClick={() => (nodes.reload(), setKeysTick((t) => t + 1))} disabled={nodes.loading}>
          Refresh
        </button>
      }
    >
      <Section title="Nodes">
        {renaming && (
          <RenameNode
            node={renaming}
            onDone={(n) => {
              setRenaming(undefined);
              if (n) {
                notify(`Node renamed to “${label(n)}”.`);
                nodes.reload();
              }
            }}
          />
        )}
        <PagedTable
          state={nodes}
          pages={pages}
          caption="Nodes"
          rows={(data) => data.nodes}
          rowKey={(n) => n.name}
          empty={
            session.authenticationEnabled
              ? 'No nodes yet. Make a node key below and register a worker with it.'
              : 'No nodes online. With authentication off, every running agent is a temporary node.'
          }
          columns={[
            {
              header: 'Node',
              render: (n) => (
                <span class="cell-stack">
                  <Ellipsis text={label(n)} />
                  <span class="muted small">{nodeId(n)}</span>
                </span>
              ),
            },
            {
              header: 'State',
              fit: 'nowrap',
              render: (n) => (
                <span class="cell-stack">
                  {n.isOnline ? <Badge tone="success">Online</Badge> : <Badge tone="muted">Offline</Badge>}
                  {n.temporary && <Badge tone="neutral">Temporary</Badge>}
                </span>
              ),
            },
            { header: 'Tags', fit: 'wrap', render: (n) => (n.tags?.length ? <Tags tags={n.tags} /> : <span class="muted">none</span>) },
            { header: 'Slots', numeric: true, fit: 'nowrap', render: (n) => String(n.slots ?? 0) },
            {
              header: 'Running',
              numeric: true,
              fit: 'nowrap',
              render: (n) => (
                <a href={`/ui/jobs?node=${encodeURIComponent(nodeId(n))}`} aria-label={`${n.runningJobs ?? 0} running jobs on ${label(n)}`}>
                  {String(n.runningJobs ?? 0)}
                </a>
              ),
            },
            { header: 'Last heartbeat', fit: 'nowrap', render: (n) => <RelativeTime time={n.lastHeartbeatTime} never="never" /> },
            { header: 'Client IP', wide: true, render: (n) => n.clientIp || '—' },
            { header: 'Agent', wide: true, render: (n) => n.agentVersion || '—' },
            {
              header: 'Actions',
              fit: 'nowrap',
              render: (n) => (
                <div class="row-actions">
                  <button type="button" class="button button-small" aria-label={`Rename ${label(n)}`} onClick={() => setRenaming(n)}>
                    Rename
                  </button>
                  <button type="button" class="button button-small button-danger" aria-label={`Delete ${label(n)}`} onClick={() => setVictim(n)}>
                    Delete
                  </button>
                </div>
              ),
            },
          ]}
        />
      </Section>
      {session.authenticationEnabled && <NodeKeys refresh={keysTick} />}
      <ConfirmDialog open={victim !== undefined} title="Delete node?" confirmLabel="Delete node" danger onConfirm={remove} onCancel={() => setVictim(undefined)}>
        <p class="break-anywhere">
          “{victim && label(victim)}” is removed and its credentials stop working: an agent running on it is disconnected at once and cannot connect
          again until it is registered with a new node key (<code>scrapydd agent -g --force</code>).
        </p>
        {(victim?.runningJobs ?? 0) > 0 ? (
          <p>
            <strong>
              {victim?.runningJobs} job{victim?.runningJobs === 1 ? ' is' : 's are'} running on it:
            </strong>{' '}
            {victim?.runningJobs === 1 ? 'it ends' : 'they end'} as LOST (their log and items so far are kept).
          </p>
        ) : (
          <p>No jobs are running on it. Finished jobs keep their history.</p>
        )}
      </ConfirmDialog>
    </Page>
  );
}

function RenameNode(props: { node: Node; onDone: (node?: Node) => void }) {
  const [name, setName] = useState(props.node.displayName ?? '');
  const { busy, error, submit } = useSubmit(async () => {
    props.onDone(await api.patch<Node>(`/v1/nodes/${seg(nodeId(props.node))}`, { displayName: name.trim() }, { query: { updateMask: 'display_name' } }));
  });
  return (
    <form class="inline-form rename-form" onSubmit={submit} noValidate aria-label={`Rename node ${label(props.node)}`}>
      <Field label={`New name for node ${nodeId(props.node)}`} error={fieldError(error, 'display_name')}>
        {(id, d, invalid) => (
          <input id={id} name="displayName" value={name} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setName(e.currentTarget.value)} />
        )}
      </Field>
      <SubmitButton busy={busy} busyLabel="Saving…">
        Save name
      </SubmitButton>
      <button type="button" class="button" onClick={() => props.onDone()}>
        Cancel
      </button>
      <FormError error={error} fields={['display_name']} />
    </form>
  );
}

function NodeKeys(props: { refresh: number }) {
  const { notify } = useNotice();
  const pages = usePageTokens();
  const keys = useApi(
    (signal) => api.get<ListNodeKeysResponse>('/v1/nodeKeys', { query: { pageSize: 50, pageToken: pages.token }, signal }),
    [pages.token, props.refresh],
  );
  const [created, setCreated] = useState<NodeKey | undefined>(undefined);
  const [victim, setVictim] = useState<NodeKey | undefined>(undefined);

  async function revoke() {
    if (!victim) return;
    await api.del(`/v1/nodeKeys/${seg(keyId(victim))}`);
    notify(`Node key ${keyId(victim)} revoked.`);
    if (created?.name === victim.name) setCreated(undefined);
    setVictim(undefined);
    keys.reload();
  }

  return (
    <Section title="Node keys">
      <p class="muted">
        A node key registers one worker as a permanent node. It works once and expires after <code>node_key_ttl</code> (10 minutes by default).
      </p>
      <CreateNodeKey
        onCreated={(k) => {
          setCreated(k);
          keys.reload();
        }}
      />
      {created?.secret && <NewKey nodeKey={created} onDismiss={() => setCreated(undefined)} />}
      <h3>Unused keys</h3>
      <PagedTable
        state={keys}
        pages={pages}
        caption="Unused node keys"
        rows={(data) => data.nodeKeys}
        rowKey={(k) => k.name}
        empty="No unused node keys."
        columns={[
          { header: 'Key', render: (k) => keyId(k), fit: 'nowrap' },
          { header: 'Tags', fit: 'wrap', render: (k) => (k.tags?.length ? <Tags tags={k.tags} /> : <span class="muted">none</span>) },
          { header: 'Created', fit: 'nowrap', wide: true, render: (k) => <RelativeTime time={k.createTime} /> },
          { header: 'Expires', fit: 'nowrap', render: (k) => <RelativeTime time={k.expireTime} /> },
          {
            header: 'Actions',
            fit: 'nowrap',
            render: (k) => (
              <button type="button" class="button button-small button-danger" aria-label={`Revoke node key ${keyId(k)}`} onClick={() => setVictim(k)}>
                Revoke
              </button>
            ),
          },
        ]}
      />
      <ConfirmDialog open={victim !== undefined} title="Revoke node key?" confirmLabel="Revoke" danger onConfirm={revoke} onCancel={() => setVictim(undefined)}>
        <p>Node key {victim && keyId(victim)} can no longer register a node. Nodes already registered are not affected.</p>
      </ConfirmDialog>
    </Section>
  );
}

function CreateNodeKey(props: { onCreated: (k: NodeKey) => void }) {
  const [tags, setTags] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const list = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const key = await api.post<NodeKey>('/v1/nodeKeys', { tags: list });
    setTags('');
    props.onCreated(key);
  });
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <Field label="Tags for the node (optional)" hint="Comma-separated; added to the agent's own tags." error={fieldError(error, 'tags')}>
        {(id, d, invalid) => (
          <input id={id} name="tags" value={tags} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setTags(e.currentTarget.value)} />
        )}
      </Field>
      <SubmitButton busy={busy} busyLabel="Creating…">
        New node key
      </SubmitButton>
      <FormError error={error} fields={['tags']} />
    </form>
  );
}

/** The key and its secret, shown once, with what to run on the worker. */
function NewKey(props: { nodeKey: NodeKey; onDismiss: () => void }) {
  const id = keyId(props.nodeKey);
  const secret = props.nodeKey.secret ?? '';
  const server = window.location.port ? window.location.host : `${window.location.hostname}:6800`;
  const command = `scrapydd agent -g --server ${server}`;
  const expires = props.nodeKey.expireTime ? new Date(props.nodeKey.expireTime) : undefined;
  return (
    <div class="notice notice-warning secret-once" role="status" aria-label="New node key">
      <p>
        <strong>Copy the node key and its secret now.</strong> The secret is shown only this once. The key works once and expires{' '}
        {expires ? (
          <>
            <RelativeTime time={props.nodeKey.expireTime} /> (at {expires.toLocaleString()})
          </>
        ) : (
          'soon'
        )}
        .
      </p>
      <dl class="facts key-facts">
        <dt>Node key</dt>
        <dd class="secret-row">
          <code class="secret" data-testid="node-key-id">
            {id}
          </code>
          <CopyButton text={id} label="Copy key" />
        </dd>
        <dt>Secret key</dt>
        <dd class="secret-row">
          <code class="secret" data-testid="node-key-secret">
            {secret}
          </code>
          <CopyButton text={secret} label="Copy secret" />
        </dd>
      </dl>
      <p>
        On the worker, run this; it asks for the node key and the secret key, registers the machine and writes its credentials to{' '}
        <code>data/node.json</code>:
      </p>
      <div class="secret-row">
        <code class="secret" data-testid="node-key-command">
          {command}
        </code>
        <CopyButton text={command} label="Copy command" />
      </div>
      <p>
        Then start the agent with <code>scrapydd agent</code> (put <code>server = {server}</code> in the <code>[agent]</code> section of its{' '}
        <code>scrapydd.conf</code>, or pass <code>--server</code> again). It appears above as online.
      </p>
      <button type="button" class="button button-small" onClick={props.onDismiss}>
        I have copied them
      </button>
    </div>
  );
}

function Tags(props: { tags: readonly string[] }) {
  return (
    <ul class="tag-list" aria-label="Tags">
      {props.tags.map((t) => (
        <li key={t} class="tag break-anywhere">
          {t}
        </li>
      ))}
    </ul>
  );
}

function nodeId(n: Node): string {
  return n.id ?? n.name.replace(/^nodes\//, '');
}

function label(n: Node): string {
  return n.displayName || nodeId(n);
}

function keyId(k: NodeKey): string {
  return k.name.replace(/^nodeKeys\//, '');
}
