/**
 * Short-lived notices ("API key revoked") in a live region at the bottom of
 * the window: useNotice().notify('…'). Errors that belong to a form or a
 * page are shown there instead, in place.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useMemo, useState } from 'preact/hooks';

type Kind = 'info' | 'success' | 'error';
interface Notice {
  id: number;
  text: string;
  kind: Kind;
}

const NoticeContext = createContext<{ notify(text: string, kind?: Kind): void }>({ notify: () => undefined });

let nextId = 1;

export function NoticeProvider(props: { children: ComponentChildren }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const dismiss = useCallback((id: number) => setNotices((n) => n.filter((x) => x.id !== id)), []);
  const notify = useCallback(
    (text: string, kind: Kind = 'success') => {
      const id = nextId++;
      setNotices((n) => [...n.slice(-3), { id, text, kind }]);
      window.setTimeout(() => dismiss(id), kind === 'error' ? 10_000 : 5_000);
    },
    [dismiss],
  );
  const value = useMemo(() => ({ notify }), [notify]);
  return (
    <NoticeContext.Provider value={value}>
      {props.children}
      <div class="toasts" role="status" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} class={`toast toast-${n.kind}`}>
            <span class="break-anywhere">{n.text}</span>
            <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NoticeContext.Provider>
  );
}

export function useNotice() {
  return useContext(NoticeContext);
}
