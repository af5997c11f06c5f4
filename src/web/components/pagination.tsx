/**
 * Page-token pagination (AIP-158): the API gives a next_page_token; going
 * back needs the tokens seen so far. usePageTokens() keeps them, and
 * <Pagination> shows Previous / Next.
 *   const pages = usePageTokens();
 *   const list = useApi((s) => api.get(path, { query: { pageSize: 50, pageToken: pages.token }, signal: s }), [pages.token]);
 *   <Pagination pages={pages} nextPageToken={list.data?.nextPageToken} />
 */
import { useState } from 'preact/hooks';

export interface PageTokens {
  /** The token of the page shown ('' for the first). */
  readonly token: string;
  /** 1-based. */
  readonly number: number;
  next(token: string): void;
  previous(): void;
  /** Back to the first page (filters changed). */
  reset(): void;
}

export function usePageTokens(): PageTokens {
  const [stack, setStack] = useState<string[]>(['']);
  return {
    token: stack[stack.length - 1]!,
    number: stack.length,
    next: (token) => setStack((s) => [...s, token]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack(['']),
  };
}

export function Pagination(props: { pages: PageTokens; nextPageToken: string | undefined; disabled?: boolean }) {
  const { pages, nextPageToken } = props;
  if (pages.number === 1 && !nextPageToken) return null;
  return (
    <nav class="pagination" aria-label="Pages">
      <button type="button" class="button" disabled={props.disabled || pages.number === 1} onClick={() => pages.previous()}>
        ← Previous
      </button>
      <span class="pagination-page">Page {pages.number}</span>
      <button type="button" class="button" disabled={props.disabled || !nextPageToken} onClick={() => nextPageToken && pages.next(nextPageToken)}>
        Next →
      </button>
    </nav>
  );
}
