/** Loading, error and empty states, shown in place of content. */
import type { ComponentChildren } from 'preact';
import { messageOf } from '../api/errors';

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </p>
  );
}

/** An error from the API (or anything thrown), readable, with an optional retry. */
export function ErrorBox(props: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div class="notice notice-error" role="alert">
      {props.title && <strong>{props.title} </strong>}
      <span class="break-anywhere">{messageOf(props.error)}</span>
      {props.onRetry && (
        <button type="button" class="button button-small" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** Loading → error (with retry) → content, for a useApi() result. */
export function Loaded<T>(props: { state: { data?: T; error?: unknown; loading: boolean; reload: () => void }; children: (data: T) => ComponentChildren }) {
  const { data, error, loading, reload } = props.state;
  if (error) return <ErrorBox error={error} onRetry={reload} />;
  if (data === undefined) return loading ? <Loading /> : null;
  return <>{props.children(data)}</>;
}
