/**
 * A table of rows with an empty state. Cells never break the layout: long
 * text is cut with an ellipsis (full text in the title) or wraps anywhere,
 * and a table wider than the window scrolls inside its own box.
 */
import type { ComponentChildren } from 'preact';
import { Empty } from './status';

export interface Column<T> {
  header: string;
  /** The cell's content; plain strings get an ellipsis with the full text as title. */
  render: (row: T) => ComponentChildren;
  /** 'ellipsis' (default for strings): one line, cut; 'wrap': wraps anywhere; 'nowrap': numbers, dates, buttons. */
  fit?: 'ellipsis' | 'wrap' | 'nowrap';
  /** Right-aligned (numbers). */
  numeric?: boolean;
  /** Hidden in a narrow window (secondary columns). */
  wide?: boolean;
}

export function DataTable<T>(props: {
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** Shown instead of the table when there are no rows. */
  empty: ComponentChildren;
  caption?: string;
}) {
  if (props.rows.length === 0) return <Empty>{props.empty}</Empty>;
  return (
    <div class="table-wrap">
      <table class="data-table">
        {props.caption && <caption class="visually-hidden">{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" key={c.header} class={cellClass(c)}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map((c) => {
                const content = c.render(row);
                return (
                  <td key={c.header} class={cellClass(c)}>
                    {typeof content === 'string' && (c.fit ?? 'ellipsis') === 'ellipsis' ? <Ellipsis text={content} /> : content}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One line of text cut with an ellipsis; the whole text in a tooltip. */
export function Ellipsis(props: { text: string; href?: string }) {
  if (props.href) {
    return (
      <a class="ellipsis" href={props.href} title={props.text}>
        {props.text}
      </a>
    );
  }
  return (
    <span class="ellipsis" title={props.text}>
      {props.text}
    </span>
  );
}

function cellClass<T>(c: Column<T>): string {
  return [`fit-${c.fit ?? 'ellipsis'}`, c.numeric ? 'numeric' : '', c.wide ? 'wide-only' : ''].filter(Boolean).join(' ');
}
