/**
 * A modal question before a destructive action (native <dialog>: focus is
 * trapped, Escape cancels). The action's error is shown inside it.
 *   <ConfirmDialog open={!!victim} title="Revoke API key?" confirmLabel="Revoke" danger
 *     onConfirm={revoke} onCancel={() => setVictim(undefined)}>…</ConfirmDialog>
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { messageOf } from '../api/errors';
import { useSubmit } from './use-submit';

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** May throw (e.g. an ApiError): the dialog stays open and shows the message. */
  onConfirm: () => Promise<void> | void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId(); // several dialogs may share a page
  const { busy, error, setError, submit: confirm } = useSubmit(() => props.onConfirm());

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setError(undefined);
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  }, [props.open]);

  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onCancel={(e) => (e.preventDefault(), props.onCancel())}>
      <h2 id={titleId}>{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      {error !== undefined && (
        <p class="form-error" role="alert">
          {messageOf(error)}
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" class="button" onClick={props.onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" class={`button button-primary${props.danger ? ' button-danger' : ''}`} onClick={() => void confirm()} disabled={busy} aria-busy={busy}>
          {busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
