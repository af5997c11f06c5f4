/** Stands in for a page that is not built yet (see routes.tsx). */
import { Page } from '../components/page';
import { Empty } from '../components/status';
import type { RouteProps } from '../router';

export function PlaceholderPage(_props: RouteProps) {
  const name = window.location.pathname.split('/')[2] ?? 'page';
  const title = name.charAt(0).toUpperCase() + name.slice(1);
  return (
    <Page title={title}>
      <Empty>This page is not available in the web UI yet; use the REST API or the CLI meanwhile.</Empty>
    </Page>
  );
}
