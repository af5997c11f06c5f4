/** Every page's frame: its title (also the document title), optional actions on the right, the content. */
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

export function Page(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · scrapydd`;
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-header">
        <div class="page-heading">
          <h1 id="page-title" class="break-anywhere">
            {props.title}
          </h1>
          {props.subtitle && <p class="page-subtitle">{props.subtitle}</p>}
        </div>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** A titled block inside a page. */
export function Section(props: { title: string; actions?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <section class="section">
      <header class="section-header">
        <h2>{props.title}</h2>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}
