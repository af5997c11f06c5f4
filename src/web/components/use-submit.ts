/**
 * A change the user starts (a form, a confirmed action): busy while it
 * runs, its error kept for showing in place (cleared when it starts again).
 * Nothing is set after the component is gone (e.g. the action navigated away).
 *   const create = useSubmit(async () => { onCreated(await api.post<Key>(path, body)); setName(''); });
 *   <form onSubmit={create.submit}> … <FormError error={create.error} /> <SubmitButton busy={create.busy}>
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Submit {
  busy: boolean;
  error: unknown;
  /** For checks before the action runs (e.g. "passwords do not match"). */
  setError: (error: unknown) => void;
  /** Runs the action; prevents the event's default (a form's submit) when given one. Never rejects. */
  submit: (event?: Event) => Promise<void>;
}

export function useSubmit(action: () => Promise<void> | void): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const actionRef = useRef(action);
  actionRef.current = action;
  const mounted = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  async function submit(event?: Event) {
    event?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await actionRef.current();
    } catch (err) {
      if (mounted.current) setError(err);
    } finally {
      if (mounted.current) setBusy(false);
    }
  }
  return { busy, error, setError, submit };
}
