/**
 * A paged list from useApi() and usePageTokens(): loading and error states,
 * the DataTable of the page's rows, then Previous / Next.
 *   <PagedTable state={keys} pages={pages} rows={(d) => d.apiKeys} caption="API keys" rowKey={(k) => k.name} empty="No API keys yet." columns={[…]} />
 */
import type { ComponentChildren } from 'preact';
import { DataTable, type Column } from './data-table';
import { Pagination, type PageTokens } from './pagination';
import { Loaded } from './status';
import type { ApiState } from './use-api';

export function PagedTable<D extends { nextPageToken?: string }, T>(props: {
  state: ApiState<D>;
  pages: PageTokens;
  /** The rows of a loaded page (a missing list: none). */
  rows: (data: D) => readonly T[] | undefined;
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  empty: ComponentChildren;
  caption?: string;
}) {
  const { state, pages } = props;
  return (
    <Loaded state={state}>
      {(data) => (
        <>
          <DataTable<T> caption={props.caption} rows={props.rows(data) ?? []} rowKey={props.rowKey} empty={props.empty} columns={props.columns} />
          <Pagination pages={pages} nextPageToken={data.nextPageToken} disabled={state.loading} />
        </>
      )}
    </Loaded>
  );
}
