/**
 * Every field of SpiderSettings (docs/spiders.md); saving sends update_mask
 * with the changed fields only. The server's message names the field
 * (`settings.concurrency must be 1..1000`): it is shown under that field.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client';
import { messageOf } from '../../api/errors';
import type { Spider, SpiderSettings } from '../../api/types';
import { Field, SubmitButton } from '../../components/form';
import { fromMap, KeyValueRows, toMap, type KeyValue } from '../../components/key-value-rows';
import { useNotice } from '../../components/notice';
import { Section } from '../../components/page';
import { useSubmit } from '../../components/use-submit';

interface Draft {
  tag: string;
  concurrency: string;
  timeoutSeconds: string;
  retries: string;
  priority: string;
  args: KeyValue[];
  scrapySettings: KeyValue[];
  extraRequirements: string;
  disabled: boolean;
}

/** The proto field (snake_case, for update_mask and messages) of each draft field. */
const FIELDS: Record<keyof Draft, string> = {
  tag: 'tag',
  concurrency: 'concurrency',
  timeoutSeconds: 'timeout_seconds',
  retries: 'retries',
  priority: 'priority',
  args: 'args',
  scrapySettings: 'scrapy_settings',
  extraRequirements: 'extra_requirements',
  disabled: 'disabled',
};

function draftOf(s: SpiderSettings | undefined): Draft {
  return {
    tag: s?.tag ?? '',
    concurrency: String(s?.concurrency ?? 0),
    timeoutSeconds: String(s?.timeoutSeconds ?? 0),
    retries: String(s?.retries ?? 0),
    priority: String(s?.priority ?? 0),
    args: fromMap(s?.args),
    scrapySettings: fromMap(s?.scrapySettings),
    extraRequirements: (s?.extraRequirements ?? []).join('\n'),
    disabled: s?.disabled ?? false,
  };
}

/** The draft as SpiderSettings JSON; numbers that do not parse are sent as they are typed (NaN → the server refuses it by name). */
function settingsOf(d: Draft): Required<SpiderSettings> {
  return {
    tag: d.tag.trim(),
    concurrency: Number(d.concurrency),
    timeoutSeconds: Number(d.timeoutSeconds),
    retries: Number(d.retries),
    priority: Number(d.priority),
    args: toMap(d.args),
    scrapySettings: toMap(d.scrapySettings),
    extraRequirements: d.extraRequirements.split('\n').map((l) => l.trim()).filter(Boolean),
    disabled: d.disabled,
  };
}

export function changedFields(before: Draft, after: Draft): (keyof Draft)[] {
  const a = settingsOf(before);
  const b = settingsOf(after);
  return (Object.keys(FIELDS) as (keyof Draft)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]) || (k !== 'args' && k !== 'scrapySettings' && before[k] !== after[k]));
}

export function SettingsForm(props: { path: string; spider: Spider; onSaved: () => void }) {
  const { notify } = useNotice();
  const [saved, setSaved] = useState(() => draftOf(props.spider.settings));
  const [draft, setDraft] = useState(saved);
  const [localErrors, setLocalErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  useEffect(() => {
    const d = draftOf(props.spider.settings);
    setSaved(d);
    setDraft(d);
  }, [props.spider]);

  const changed = changedFields(saved, draft);
  const { busy, error, setError, submit: save } = useSubmit(async () => {
    const all = settingsOf(draft);
    const settings: Record<string, unknown> = {};
    for (const k of changed) settings[k] = all[k];
    const mask = changed.map((k) => `settings.${FIELDS[k]}`).join(',');
    await api.patch<Spider>(props.path, { settings }, { query: { updateMask: mask } });
    notify('Settings saved.');
    props.onSaved();
  });
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));

  /** The server's message under the field it names, if it names one. */
  function errorAt(k: keyof Draft): string | undefined {
    if (localErrors[k]) return localErrors[k];
    if (!error) return undefined;
    const text = messageOf(error);
    return new RegExp(`^settings\\.${FIELDS[k]}\\b`, 'i').test(text) ? text : undefined;
  }
  const shownAtField = (Object.keys(FIELDS) as (keyof Draft)[]).some((k) => errorAt(k) !== undefined);

  function submit(event: Event) {
    event.preventDefault();
    if (changed.length === 0) return;
    const local: Partial<Record<keyof Draft, string>> = {};
    for (const k of ['concurrency', 'timeoutSeconds', 'retries', 'priority'] as const) {
      if (draft[k].trim() === '' || !Number.isFinite(Number(draft[k]))) local[k] = 'Enter a number.';
    }
    setLocalErrors(local);
    if (Object.keys(local).length > 0) return setError(undefined);
    void save();
  }

  const numberField = (k: 'concurrency' | 'timeoutSeconds' | 'retries' | 'priority', label: string, hint: string) => (
    <Field label={label} hint={hint} error={errorAt(k)}>
      {(id, d, invalid) => <input id={id} inputMode="numeric" value={draft[k]} aria-invalid={invalid} aria-describedby={d} onInput={(e) => set(k, e.currentTarget.value)} />}
    </Field>
  );

  return (
    <Section title="Settings">
      <form class="settings-form" onSubmit={submit} noValidate aria-label="Spider settings">
        <div class={`toggle-row${draft.disabled ? ' toggle-off' : ''}`}>
          <input id="spider-disabled" type="checkbox" checked={draft.disabled} onChange={(e) => set('disabled', e.currentTarget.checked)} />
          <label for="spider-disabled">
            <strong>Disabled</strong> — {draft.disabled ? 'the spider does not run: runs are refused, trigger fires skipped.' : 'off: the spider runs.'}
          </label>
        </div>
        <div class="form-row">
          <Field label="Tag" hint="Jobs run only on agents with this tag; empty: any agent." error={errorAt('tag')}>
            {(id, d, invalid) => <input id={id} value={draft.tag} maxLength={100} aria-invalid={invalid} aria-describedby={d} onInput={(e) => set('tag', e.currentTarget.value)} />}
          </Field>
          {numberField('concurrency', 'Concurrency', 'Most jobs running at once, 1..1000.')}
          {numberField('timeoutSeconds', 'Timeout (seconds)', 'A running job is stopped after this long.')}
          {numberField('retries', 'Retries', 'New attempts after a failed or lost job, 0..100.')}
          {numberField('priority', 'Priority', 'Default priority of its jobs; higher runs first.')}
        </div>
        <KeyValueRows legend="Default arguments" keyLabel="Default argument" rows={draft.args} onChange={(v) => set('args', v)} error={errorAt('args')} />
        <KeyValueRows
          legend="Default Scrapy settings"
          keyLabel="Default setting"
          keyPlaceholder="NAME"
          rows={draft.scrapySettings}
          onChange={(v) => set('scrapySettings', v)}
          error={errorAt('scrapySettings')}
        />
        <Field label="Extra requirements" hint="pip requirement lines, one per line (e.g. requests>=2.31)." error={errorAt('extraRequirements')}>
          {(id, d, invalid) => (
            <textarea id={id} rows={3} value={draft.extraRequirements} aria-invalid={invalid} aria-describedby={d} onInput={(e) => set('extraRequirements', e.currentTarget.value)} />
          )}
        </Field>
        {error !== undefined && !shownAtField && (
          <p class="form-error" role="alert">
            {messageOf(error)}
          </p>
        )}
        <div class="form-actions">
          <SubmitButton busy={busy} busyLabel="Saving…">
            Save settings
          </SubmitButton>
          <button type="button" class="button" disabled={changed.length === 0 || busy} onClick={() => (setDraft(saved), setError(undefined), setLocalErrors({}))}>
            Undo changes
          </button>
          <span class="muted">{changed.length === 0 ? 'No changes.' : `Changed: ${changed.map((k) => FIELDS[k]).join(', ')}`}</span>
        </div>
      </form>
    </Section>
  );
}
