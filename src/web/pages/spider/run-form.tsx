/** Run the spider now: arguments, Scrapy settings, version (default latest), optional priority; then the new job's page. */
import { useState } from 'preact/hooks';
import { api, seg } from '../../api/client';
import { jobHref, lastSegment } from '../../api/names';
import type { Job, ListVersionsResponse } from '../../api/types';
import { Field, fieldError, FormError, SubmitButton } from '../../components/form';
import { KeyValueRows, toMap, type KeyValue } from '../../components/key-value-rows';
import { Section } from '../../components/page';
import { useApi } from '../../components/use-api';
import { useSubmit } from '../../components/use-submit';
import { navigate } from '../../router';

export function RunForm(props: { path: string; project: string; onRun: () => void }) {
  const versions = useApi(
    (signal) => api.get<ListVersionsResponse>(`/v1/projects/${seg(props.project)}/versions`, { query: { pageSize: 1000 }, signal }),
    [props.project],
  );
  const [args, setArgs] = useState<KeyValue[]>([]);
  const [settings, setSettings] = useState<KeyValue[]>([]);
  const [version, setVersion] = useState('');
  const [priority, setPriority] = useState('');
  const { busy, error, setError, submit: run } = useSubmit(async () => {
    const body: Record<string, unknown> = { args: toMap(args), scrapySettings: toMap(settings) };
    if (version) body.version = version;
    if (priority.trim() !== '') body.priority = Number(priority);
    const job = await api.post<Job>(`${props.path}:run`, body);
    props.onRun();
    navigate(jobHref(job.name));
  });

  function submit(event: Event) {
    event.preventDefault();
    if (priority.trim() !== '' && !Number.isFinite(Number(priority))) return setError(new Error('Priority must be a number, e.g. 10 or -1.5.'));
    void run();
  }

  const names = (versions.data?.versions ?? []).map((v) => lastSegment(v.name)).reverse();
  return (
    <Section title="Run">
      <form class="run-form" onSubmit={submit} noValidate aria-label="Run the spider">
        <KeyValueRows legend="Arguments (-a)" keyLabel="Argument" rows={args} onChange={setArgs} error={fieldError(error, 'args')} hint="Over the spider’s default arguments (Settings)." />
        <KeyValueRows
          legend="Scrapy settings (-s)"
          keyLabel="Setting"
          rows={settings}
          onChange={setSettings}
          keyPlaceholder="NAME"
          error={fieldError(error, 'scrapy_settings')}
          hint="Over the spider’s default Scrapy settings."
        />
        <div class="form-row">
          <Field label="Version" error={fieldError(error, 'version')}>
            {(id, d, invalid) => (
              <select id={id} value={version} aria-invalid={invalid} aria-describedby={d} onChange={(e) => setVersion(e.currentTarget.value)}>
                <option value="">Latest{names[0] ? ` (${names[0]})` : ''}</option>
                {names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Priority" hint="Optional; higher runs first. Empty: the spider’s default." error={fieldError(error, 'priority')}>
            {(id, d, invalid) => (
              <input id={id} inputMode="decimal" value={priority} aria-invalid={invalid} aria-describedby={d} onInput={(e) => setPriority(e.currentTarget.value)} />
            )}
          </Field>
        </div>
        <FormError error={error} fields={['args', 'scrapy_settings', 'version', 'priority']} />
        <SubmitButton busy={busy} busyLabel="Queueing…">
          Run spider
        </SubmitButton>
      </form>
    </Section>
  );
}
