/** The spider's cron triggers: list, add with a preview of the next fire times, enable/disable, fire history, delete. */
import { useMemo, useState } from 'preact/hooks';
import { api, resourcePath } from '../../api/client';
import { jobHref, lastSegment } from '../../api/names';
import type { ListTriggersResponse, Trigger } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { Field, fieldError, FormError, SubmitButton } from '../../components/form';
import { KeyValueRows, toMap, type KeyValue } from '../../components/key-value-rows';
import { useNotice } from '../../components/notice';
import { Section } from '../../components/page';
import { PagedTable } from '../../components/paged-table';
import { usePageTokens } from '../../components/pagination';
import { RelativeTime } from '../../components/relative-time';
import { Badge } from '../../components/state-badge';
import { useApi } from '../../components/use-api';
import { useSubmit } from '../../components/use-submit';
import { browserTimeZone, formatInZone, previewFireTimes } from './cron-preview';
import { TriggerHistory } from './trigger-history';
import { OUTCOMES } from './trigger-outcomes';

export function Triggers(props: { path: string }) {
  const { notify } = useNotice();
  const pages = usePageTokens();
  const triggers = useApi(
    (signal) => api.get<ListTriggersResponse>(`${props.path}/triggers`, { query: { pageSize: 50, pageToken: pages.token }, signal }),
    [props.path, pages.token],
  );
  const [victim, setVictim] = useState<Trigger | undefined>(undefined);
  const [history, setHistory] = useState<Trigger | undefined>(undefined);
  const [toggleError, setToggleError] = useState<unknown>(undefined);

  async function setEnabled(t: Trigger, enabled: boolean) {
    setToggleError(undefined);
    try {
      await api.patch(resourcePath(t.name), { enabled }, { query: { updateMask: 'enabled' } });
      notify(`Trigger “${t.cron}” ${enabled ? 'enabled' : 'disabled'}.`);
      triggers.reload();
    } catch (err) {
      setToggleError(err);
    }
  }

  async function remove() {
    if (!victim) return;
    await api.del(resourcePath(victim.name));
    notify(`Trigger “${victim.cron}” deleted.`);
    if (history?.name === victim.name) setHistory(undefined);
    setVictim(undefined);
    triggers.reload();
  }

  return (
    <Section title="Triggers">
      <PagedTable
        state={triggers}
        pages={pages}
        caption="Triggers"
        rows={(data) => data.triggers}
        rowKey={(t) => t.name}
        empty="No triggers: the spider runs only when started by hand. Add one below."
        columns={[
          { header: 'Cron', render: (t) => <code class="ellipsis" title={t.cron}>{t.cron}</code> },
          { header: 'Zone', render: (t) => t.timeZone ?? 'UTC', wide: true },
          { header: 'State', fit: 'nowrap', render: (t) => (t.enabled ? <Badge tone="success">enabled</Badge> : <Badge tone="muted">disabled</Badge>) },
          { header: 'Next fire', fit: 'nowrap', render: (t) => <RelativeTime time={t.nextFireTime} never={t.enabled ? '—' : 'never (disabled)'} /> },
          { header: 'Last fire', fit: 'wrap', wide: true, render: (t) => <LastOutcome trigger={t} /> },
          {
            header: 'Actions',
            fit: 'nowrap',
            render: (t) => (
              <span class="link-row">
                <button type="button" class="button button-small" aria-label={`${t.enabled ? 'Disable' : 'Enable'} trigger ${t.cron}`} onClick={() => void setEnabled(t, !t.enabled)}>
                  {t.enabled ? 'Disable' : 'Enable'}
                </button>
                <button
                  type="button"
                  class="button button-small"
                  aria-label={`Fire history of trigger ${t.cron}`}
                  aria-pressed={history?.name === t.name}
                  onClick={() => {
                    if (history?.name === t.name) return setHistory(undefined);
                    setHistory(t);
                    triggers.reload(); // "Last fire" as fresh as the history below
                  }}
                >
                  History
                </button>
                <button type="button" class="button button-small button-danger" aria-label={`Delete trigger ${t.cron}`} onClick={() => setVictim(t)}>
                  Delete
                </button>
              </span>
            ),
          },
        ]}
      />
      <FormError error={toggleError} />
      {history && <TriggerHistory key={history.name} trigger={history} onClose={() => setHistory(undefined)} onRefresh={triggers.reload} />}
      <AddTrigger path={props.path} onAdded={triggers.reload} />
      <ConfirmDialog open={victim !== undefined} title="Delete trigger?" confirmLabel="Delete trigger" danger onConfirm={remove} onCancel={() => setVictim(undefined)}>
        <p class="break-anywhere">
          The trigger “{victim?.cron}” ({victim?.timeZone}) stops firing and is deleted. Jobs it queued stay.
        </p>
      </ConfirmDialog>
    </Section>
  );
}

function LastOutcome(props: { trigger: Trigger }) {
  const t = props.trigger;
  if (!t.lastFireTime) return <span class="muted">never fired</span>;
  const o = t.lastOutcome ? OUTCOMES[t.lastOutcome] : undefined;
  return (
    <span class="outcome" title={t.lastOutcomeReason}>
      <RelativeTime time={t.lastFireTime} /> {o ? <Badge tone={o.tone}>{o.label}</Badge> : null}{' '}
      {t.lastJob && (
        <a href={jobHref(t.lastJob)} aria-label={`Job ${lastSegment(t.lastJob)} of the last fire`}>
          job
        </a>
      )}
    </span>
  );
}

function AddTrigger(props: { path: string; onAdded: () => void }) {
  const [cron, setCron] = useState('');
  const [zone, setZone] = useState(browserTimeZone);
  const [args, setArgs] = useState<KeyValue[]>([]);
  const effectiveZone = zone.trim();
  const preview = useMemo(() => (effectiveZone === '' ? undefined : previewFireTimes(cron, effectiveZone)), [cron, effectiveZone]);

  const { busy, error, submit } = useSubmit(async () => {
    await api.post<Trigger>(`${props.path}/triggers`, { cron: cron.trim(), timeZone: effectiveZone, args: toMap(args) });
    setCron('');
    setArgs([]);
    props.onAdded();
  });

  return (
    <form class="add-trigger" onSubmit={submit} noValidate aria-label="Add a trigger">
      <h3>Add a trigger</h3>
      <div class="form-row">
        <Field label="Cron" hint="minute hour day month weekday, e.g. */15 9-17 * * mon-fri, or @daily." error={fieldError(error, 'cron')}>
          {(id, d, invalid) => (
            <input id={id} name="cron" value={cron} placeholder="0 6 * * *" spellcheck={false} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setCron(e.currentTarget.value)} />
          )}
        </Field>
        <Field
          label="Time zone"
          hint={`IANA name. Filled in with this browser’s zone (${browserTimeZone()}); empty: the server’s default zone (its timezone setting).`}
          error={fieldError(error, 'time_zone')}
        >
          {(id, d, invalid) => <input id={id} name="timeZone" value={zone} spellcheck={false} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setZone(e.currentTarget.value)} />}
        </Field>
      </div>
      <div class="cron-preview" aria-live="polite">
        <h4>Next fire times</h4>
        {preview === undefined ? (
          <p class="muted">With the server’s default zone: the server computes them when the trigger is added.</p>
        ) : preview.ok ? (
          <ol>
            {preview.times.map((t) => (
              <li key={t.getTime()}>
                <time dateTime={t.toISOString()}>{formatInZone(t, effectiveZone)}</time>
              </li>
            ))}
          </ol>
        ) : (
          <p class="muted break-anywhere">{preview.problem}</p>
        )}
      </div>
      <KeyValueRows legend="Arguments (-a)" keyLabel="Trigger argument" rows={args} onChange={setArgs} error={fieldError(error, 'args')} />
      <FormError error={error} fields={['cron', 'time_zone', 'args']} />
      <SubmitButton busy={busy} busyLabel="Adding…">
        Add trigger
      </SubmitButton>
    </form>
  );
}
