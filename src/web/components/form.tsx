/**
 * Form pieces: a labelled field with its error text under it, the form's
 * own error (what no field explains), and a submit button that shows it
 * is busy. Field errors come from the API's BadRequest field violations:
 *   <Field label="Display name" error={fieldError(err, 'display_name')}>
 *     {(id, describedBy) => <input id={id} aria-describedby={describedBy} ... />}
 *   </Field>
 */
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError, messageOf } from '../api/errors';

export function Field(props: {
  label: string;
  error?: string;
  hint?: string;
  children: (id: string, describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children(id, describedBy, props.error !== undefined)}
      {props.hint && (
        <p id={hintId} class="field-hint">
          {props.hint}
        </p>
      )}
      {props.error && (
        <p id={errorId} class="field-error" role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

/** The message for `field` in an API error's field violations, if any. */
export function fieldError(err: unknown, field: string): string | undefined {
  return err instanceof ApiError ? err.fieldError(field) : undefined;
}

/** The error a form shows above its button: any error not already shown at one of `fields`. */
export function FormError(props: { error: unknown; fields?: readonly string[] }) {
  if (!props.error) return null;
  if (props.error instanceof ApiError && (props.fields ?? []).some((f) => (props.error as ApiError).fieldError(f))) return null;
  return (
    <p class="form-error" role="alert">
      {messageOf(props.error)}
    </p>
  );
}

export function SubmitButton(props: { busy: boolean; children: ComponentChildren; busyLabel?: string; danger?: boolean }) {
  return (
    <button type="submit" class={`button button-primary${props.danger ? ' button-danger' : ''}`} disabled={props.busy} aria-busy={props.busy}>
      {props.busy ? (props.busyLabel ?? 'Working…') : props.children}
    </button>
  );
}
