/** The spider's webhook: payload URL, delivery status, set/replace, delete. */
import { useState } from 'preact/hooks';
import { api } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { Webhook } from '../../api/types';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { Field, fieldError, FormError, SubmitButton } from '../../components/form';
import { useNotice } from '../../components/notice';
import { Section } from '../../components/page';
import { RelativeTime } from '../../components/relative-time';
import { Loaded } from '../../components/status';
import { useApi } from '../../components/use-api';
import { useSubmit } from '../../components/use-submit';

export function WebhookSection(props: { path: string }) {
  const { notify } = useNotice();
  const path = `${props.path}/webhook`;
  // A spider without a webhook answers NOT_FOUND: that is "none", not an error.
  const hook = useApi(
    (signal) =>
      api.get<Webhook>(path, { signal }).then(
        (w) => ({ webhook: w as Webhook | undefined }),
        (err: unknown) => {
          if (err instanceof ApiError && err.reason === 'WEBHOOK_NOT_FOUND') return { webhook: undefined };
          throw err;
        },
      ),
    [path],
  );
  const [url, setUrl] = useState('');
  const [deleting, setDeleting] = useState(false);

  const { busy, error, submit } = useSubmit(async () => {
    await api.patch<Webhook>(path, { payloadUrl: url.trim() }, { query: { updateMask: 'payload_url' } });
    setUrl('');
    notify('Webhook saved.');
    hook.reload();
  });

  async function remove() {
    await api.del(path);
    notify('Webhook deleted.');
    setDeleting(false);
    hook.reload();
  }

  return (
    <Section title="Webhook">
      <p class="muted">When a job ends, each of its items is POSTed to the webhook as a form, one request per item.</p>
      <Loaded state={hook}>
        {({ webhook: w }) =>
          w ? (
            <>
              <dl class="facts webhook-facts">
                <dt>Payload URL</dt>
                <dd class="break-anywhere">
                  <code>{w.payloadUrl}</code>
                </dd>
                <dt>Pending deliveries</dt>
                <dd>{w.pendingDeliveries ?? '0'}</dd>
                <dt>Failed deliveries</dt>
                <dd>{w.failedDeliveries ?? '0'}</dd>
                <dt>Last delivery</dt>
                <dd>
                  <RelativeTime time={w.lastDeliveryTime} never="none yet" />
                </dd>
                <dt>Last error</dt>
                <dd class="break-anywhere">{w.lastError || <span class="muted">none</span>}</dd>
              </dl>
              <button type="button" class="button button-danger" onClick={() => setDeleting(true)}>
                Delete webhook
              </button>
            </>
          ) : (
            <p class="empty">No webhook: items are only stored.</p>
          )
        }
      </Loaded>
      <form class="inline-form webhook-form" onSubmit={submit} noValidate aria-label="Set the webhook">
        <Field
          label={hook.data?.webhook ? 'New payload URL' : 'Payload URL'}
          hint="http or https, no user:password@ (put a token in the path or query)."
          error={fieldError(error, 'payload_url')}
        >
          {(id, d, invalid) => (
            <input id={id} type="url" name="payloadUrl" value={url} maxLength={2048} placeholder="https://example.com/hook" aria-invalid={invalid} aria-describedby={d} onInput={(e) => setUrl(e.currentTarget.value)} />
          )}
        </Field>
        <SubmitButton busy={busy} busyLabel="Saving…">
          {hook.data?.webhook ? 'Replace webhook' : 'Set webhook'}
        </SubmitButton>
        <FormError error={error} fields={['payload_url']} />
      </form>
      <ConfirmDialog open={deleting} title="Delete webhook?" confirmLabel="Delete webhook" danger onConfirm={remove} onCancel={() => setDeleting(false)}>
        <p>Items of jobs that end from now on are not sent anywhere; deliveries not yet done are cancelled.</p>
      </ConfirmDialog>
    </Section>
  );
}
